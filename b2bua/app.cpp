// Wiring of the B2BUA process.
#include "b2bua/app.hpp"

#include "admin/admin_api.hpp"
#include "admin/bindings.hpp"
#include "admin/seeding.hpp"
#include "admin/store.hpp"

#include "b2bua/asio_timer_service.hpp"
#include "b2bua/b2bua_metrics.hpp"
#include "b2bua/core.hpp"
#include "b2bua/downstream_auth.hpp"
#include "b2bua/cluster_node.hpp"
#include "b2bua/gate_metrics.hpp"
#include "b2bua/http_metrics.hpp"
#include "b2bua/service_notifier.hpp"
#include "b2bua/service_watchdog.hpp"
#include "b2bua/sip_worker.hpp"
#include "b2bua/source_gate.hpp"
#include "b2bua/tls_metrics.hpp"
#include "http/http_server.hpp"
#include "http/prometheus_endpoint.hpp"
#include "metrics/build_info.hpp"
#include "metrics/collectables.hpp"
#include "metrics/registry.hpp"
#include "security/emergency.hpp"
#include "sip/message/random.hpp"
#include "sip/message/uri.hpp"
#include "sip/transaction/transaction_manager.hpp"
#include "sip/resolver/ares_lookup.hpp"
#include "sip/transport/asio_transport.hpp"
#include "sip/transport/connection_budget.hpp"
#include "sip/transport/tls_context.hpp"
#include "version/version.hpp"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace b2b::b2bua {

void setup_logging(const std::string& level) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    const auto lvl = spdlog::level::from_str(level);
    for (const char* name : {"b2bua", "sip.txn", "sip.transport", "auth", "registration", "http"}) {
        if (auto existing = spdlog::get(name)) {
            existing->set_level(lvl);
            continue;
        }
        auto logger = std::make_shared<spdlog::logger>(name, sink);
        logger->set_level(lvl);
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l [%n] %v");
        spdlog::register_logger(logger);
    }
    spdlog::set_default_logger(spdlog::get("b2bua"));
}

namespace {

// One line that says what this process was told to do, for the first lines of its log:
// listen udp://127.0.0.1:5070 tcp://127.0.0.1:5070; 1 trunk(s), 1 route(s), 2 user(s);
// realm "pbx.local", challenge 407 (SHA-256, MD5)
std::string config_summary(const config& cfg) {
    std::string out = "listen";
    for (const auto& l : cfg.sip.listen) {
        // Written the way sip.listen spells it, so the line can be checked against the file.
        out += ' ';
        out += boost::algorithm::to_lower_copy(std::string(sip::to_string(l.transport)));
        out += "://";
        out += l.address.to_string();
    }
    if (!cfg.sip.advertised_host.empty()) out += " (advertised as " + cfg.sip.advertised_host + ')';
    out += "; " + std::to_string(cfg.upstream.trunks.size()) + " trunk(s), " +
           std::to_string(cfg.routes.size()) + " route(s), " + std::to_string(cfg.inbound_routes.size()) +
           " inbound route(s), " + std::to_string(cfg.downstream.users.size()) +
           " user(s); realm \"" + cfg.downstream.realm + "\", challenge " +
           std::to_string(cfg.downstream.challenge_status) + " (";
    for (std::size_t i = 0; i < cfg.downstream.algorithms.size(); ++i) {
        if (i > 0) out += ", ";
        out += cfg.downstream.algorithms[i];
    }
    return out + ')';
}

// Every connection is a descriptor, and the usual soft limit (1024) is below the connection
// budgets: raise it to the hard limit (allowed without privilege), and say so when even that is
// short of what the configured budgets may need, so refusals then read "descriptors" for a reason
// the operator can see.
void raise_descriptor_limit(const config& cfg) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    if (lim.rlim_cur < lim.rlim_max) {
        rlimit raised = lim;
        raised.rlim_cur = lim.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
    }
    // Budgets, plus the listeners, the HTTP server and its clients, and files.
    const auto wanted = static_cast<rlim_t>(cfg.sip.tcp_max_connections + cfg.sip.tcp_max_outbound_connections + 256);
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < wanted) {
        spdlog::get("b2bua")->warn(
            "open files limit is {}, below the {} the connection budgets may need (sip.tcp.max_connections + "
            "max_outbound_connections + 256): raise LimitNOFILE (systemd) or ulimit -n",
            static_cast<unsigned long long>(lim.rlim_cur), static_cast<unsigned long long>(wanted));
    }
}

// "2027-01-01T00:00:00Z" for a certificate's notAfter in the log.
std::string utc(std::chrono::system_clock::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char text[32];
    const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(text, n);
}

// TLS is loaded when something uses it: a tls:// listener (which config requires for any TLS
// peer), or a certificate configured for providers that ask for one.
bool uses_tls(const config& cfg) {
    if (!cfg.sip.tls.certificate.empty()) return true;
    return std::any_of(cfg.sip.listen.begin(), cfg.sip.listen.end(),
                       [](const listen_address& l) { return l.transport == sip::transport_kind::tls; });
}

// The configuration the process runs with: the file's, with the trunks, users and routes the
// store owns (seeded from the file on the first start). Throws naming the field when the store's
// documents do not fit the file (a store written by a newer build, or edited by hand).
config with_store(admin::store& st, const YAML::Node& file_root, admin::document_set& docs) {
    docs = admin::seed_or_load(st, file_root);
    auto v = admin::validate(file_root, docs);
    if (v.error) {
        throw std::runtime_error("data_dir: " + st.path() + ": the trunks, users and routes in the store do not fit " +
                                 "the configuration file: " + (v.error->field.empty() ? "" : v.error->field + ": ") +
                                 v.error->message);
    }
    return std::move(*v.config);
}

}  // namespace

class application::impl {
public:
    impl(config cfg, std::string config_path)
        : config_path_(std::move(config_path)),
          file_root_(admin::load_config_root(config_path_)),
          store_(admin::store::open(cfg.data_dir)),
          cfg_(with_store(*store_, file_root_, docs_)),
          registry_(metrics::make_registry()),
          metrics_(*registry_, cfg_.downstream.realm, trunk_names(cfg_), pbx_names(cfg_)),
          tls_metrics_(*registry_) {
        metrics::add_build_info(*registry_, version::number(), version::commit());
        if (cfg_.routes.empty()) {  // the file's and the store's
            spdlog::get("b2bua")->warn(
                "config: no routes yet: calls from PBXs get 404 until one is added (routes:, or PUT /api/v1/routes)");
        }
        for (auto& w : workers_) w->transport().set_tls_observer(tls_metrics_);
        if (uses_tls(cfg_)) {
            // A file that cannot be used stops the start, naming the field (sip.tls.key: ...).
            try {
                install_tls(sip::load_tls(cfg_.sip.tls));
            } catch (const sip::tls_error& e) {
                throw std::runtime_error(e.what());
            }
        }
        listen();
        for (const auto& [kind, ep] : transport_.listening()) {
            if (kind == sip::transport_kind::tls) tls_metrics_.add_listener("tls://" + ep.to_string());
        }
        tls_metrics_.set_certificate_expiry(tls_not_after_);
        start_admin();
        if (cfg_.http.listen) start_http();
    }

    static std::vector<std::unique_ptr<sip_worker>> make_workers(const config& cfg, b2bua_metrics& first,
                                                                  gate_metrics& gates) {
        config shared = cfg;
        if (shared.sip.workers > 1 && shared.downstream.nonce_secret.empty()) {
            // One key for every worker's nonces (and so one opaque): an answer that reaches
            // another worker than the one that challenged is re-challenged stale, never refused.
            // Drawn now, it dies with the process as each worker's own random key would.
            std::array<std::uint8_t, 32> key{};
            sip::random_bytes(key);
            shared.downstream.nonce_secret.assign(key.begin(), key.end());
        }
        // What the workers count together: trunk and account limits, calls.max_calls, trunk
        // health (worker 0 pings; every worker reads the verdict), failure log lines per source,
        // TCP/TLS connections (sip.tcp budgets).
        shared_usage usage;
        usage.failure_lines = std::make_shared<failure_log_limiter>(failure_lines_options(shared));
        usage.connections = std::make_shared<sip::connection_budget>(sip::connection_limits(transport_options(shared, 0)));
        std::vector<std::unique_ptr<sip_worker>> out;
        for (std::size_t i = 0; i < shared.sip.workers; ++i) {
            out.push_back(std::make_unique<sip_worker>(static_cast<std::uint8_t>(i), shared.sip.workers, shared, first,
                                                       gates, usage));
        }
        std::vector<sip_worker*> all;
        for (auto& w : out) all.push_back(w.get());
        for (auto& w : out) w->set_workers(all);
        if (all.size() > 1) {
            // Worker 0 is the registrar; the others place calls to registered PBX accounts by
            // the table it publishes on each change.
            out.front()->core().pbx_bindings().set_binding_publisher(
                [all](std::shared_ptr<const binding_table> table) {
                    for (std::size_t i = 1; i < all.size(); ++i) {
                        boost::asio::post(all[i]->io(),
                                          [w = all[i], table] { w->core().set_published_bindings(table); });
                    }
                });
        }
        return out;
    }

    // Binds every listen address on worker 0, then the other workers' sockets and listeners on
    // the same addresses and ports (port 0 resolved by worker 0's bind), one SO_REUSEPORT group
    // each: the kernel spreads peers and new connections over the workers.
    void listen() {
        const bool grouped = workers_.size() > 1;
        const auto refuse = [](sip::transport_kind kind, const sip::endpoint& ep, const boost::system::error_code& ec) {
            return std::runtime_error("sip.listen: cannot listen on " + std::string(sip::to_string(kind)) + " " +
                                      ep.to_string() + ": " + ec.message());
        };
        for (const auto& l : cfg_.sip.listen) {
            if (grouped && l.address.port != 0) {
                // A group would join another process's group on the port (same user): the port
                // must be free, as a single socket would require.
                if (auto ec = probe_port(l.transport, l.address)) throw refuse(l.transport, l.address, ec);
            }
            if (auto ec = transport_.listen(l.transport, l.address)) throw refuse(l.transport, l.address, ec);
        }
        for (std::size_t i = 1; i < workers_.size(); ++i) {
            for (const auto& [kind, ep] : transport_.listening()) {
                if (auto ec = workers_[i]->transport().listen(kind, ep)) throw refuse(kind, ep, ec);
            }
        }
    }

    // Whether a socket outside any group can take the port (nothing listens there).
    static boost::system::error_code probe_port(sip::transport_kind kind, const sip::endpoint& ep) {
        boost::asio::io_context io;
        boost::system::error_code ec;
        if (kind == sip::transport_kind::udp) {
            boost::asio::ip::udp::socket socket(io);
            const boost::asio::ip::udp::endpoint at(ep.address, ep.port);
            socket.open(at.protocol(), ec);
            if (!ec) socket.bind(at, ec);
            return ec;
        }
        // As the listener binds (SO_REUSEADDR: a connection in TIME_WAIT does not hold the port).
        boost::asio::ip::tcp::acceptor acceptor(io);
        const boost::asio::ip::tcp::endpoint at(ep.address, ep.port);
        acceptor.open(at.protocol(), ec);
        if (!ec) acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor.bind(at, ec);
        return ec;
    }

    // Calls in progress on every worker (their gauges: readable from any thread).
    std::size_t active_calls() const { return metrics_.active_calls(); }

    void run() {
        // A file size limit (ulimit -f, LimitFSIZE=) must fail the write that crosses it, which
        // the store reports (503, /readyz), not kill the process and every call with it.
        std::signal(SIGXFSZ, SIG_IGN);
        raise_descriptor_limit(cfg_);
        for (auto& w : workers_) w->start();
        if (cfg_.cluster.redis) start_cluster();
        auto log = spdlog::get("b2bua");
        for (const auto& [kind, ep] : transport_.listening()) {
            log->info("listening for SIP on {} {}", sip::to_string(kind), ep.to_string());
        }
        log->info("SIP workers: {}, each an event loop on a thread of its own (sip.workers)", workers_.size());
        if (http_) {
            log->info("serving /metrics and the admin API on {}://{}", cfg_.admin.tls.certificate.empty() ? "http" : "https",
                      sip::endpoint{http_->local_endpoint().address(), http_->local_endpoint().port()}.to_string());
        }
        listening_ = true;
        serving_ = serving_status();
        // The admin thread runs without an HTTP server too: call detail records reach the store there.
        boost::asio::post(http_io_, [admin = admin_] { admin->start(); });
        http_thread_ = std::thread([this] { run_http(); });
        for (std::size_t i = 1; i < workers_.size(); ++i) workers_[i]->run_thread();
        do_wait_signal();
        // Ready once this loop runs: the ports are bound, the store is open, the HTTP thread
        // is up. Under systemd (Type=notify) `systemctl start` returns here, not before.
        boost::asio::post(io_, [this] {
            notifier_.ready(serving_);
            if (const auto limit = notifier_.watchdog_limit()) {
                watchdog_ = std::make_unique<service_watchdog>(
                    timers_, *limit, [this] { notifier_.watchdog(); },
                    [this](std::function<void()> answer) {
                        // Answered once every other loop ran it: the HTTP loop's and each other
                        // worker's. One stuck loop withholds the keep-alive.
                        auto left = std::make_shared<std::atomic<std::size_t>>(workers_.size());
                        auto one = [left, answer = std::move(answer)] {
                            if (left->fetch_sub(1) == 1) answer();
                        };
                        boost::asio::post(http_io_, one);
                        for (std::size_t i = 1; i < workers_.size(); ++i) boost::asio::post(workers_[i]->io(), one);
                    });
                watchdog_->start();
                spdlog::get("b2bua")->info("systemd watchdog: {} ms, a keep-alive every third of it",
                                           std::chrono::duration_cast<std::chrono::milliseconds>(*limit).count());
            }
        });
        io_.run();
        for (auto& w : workers_) w->join();
        if (cluster_) cluster_->stop();
        stop_http();
        log->info("stopped");
    }

    ~impl() {
        stop_http();
        if (!stopped_) {
            // A start that failed half-way: the other workers' loops may run.
            for (std::size_t i = 1; i < workers_.size(); ++i) workers_[i]->io().stop();
        }
        for (auto& w : workers_) w->join();
        // The core's sinks share the admin API, whose CDR timer is an object of http_io_: it
        // must go while that loop exists, and members die in reverse order (http_io_ before
        // core_). Found by UBSan (invalid vptr in ~basic_waitable_timer) on every shutdown.
        for (auto& w : workers_) w->core().set_cdr_sink({});
        core_.pbx_bindings().set_binding_sink({});
        admin_.reset();
    }

private:
    // The HTTP server runs on its own thread and event loop, so no request, however slow or
    // large, delays SIP traffic. Its handlers touch nothing of the SIP loop's but `draining_`
    // and the metrics registry, both safe from any thread.
    // The admin API: on the HTTP thread, with the store; the core hands it call detail records.
    void start_admin() {
        admin::admin_settings settings;
        settings.token = admin::access_token::load(cfg_.admin.token, cfg_.admin.token_file);
        settings.base_config = file_root_;
        settings.reload = [this] { return reload_files(); };
        settings.cdr_keep = cfg_.cdrs.keep;
        settings.cdr_file = cfg_.cdrs.file;
        for (auto& w : workers_) settings.workers.push_back({w->io().get_executor(), &w->core()});
        // The PBXs' bindings from before a restart come back (those not expired meanwhile).
        std::size_t restored = 0;
        if (auto stored = store_->list_bindings()) {
            for (const auto& r : *stored) {
                auto b = admin::binding_from_json(r.json);
                if (b && core_.pbx_bindings().restore(std::move(b->first), b->second)) ++restored;
            }
        }
        if (restored > 0) spdlog::get("b2bua")->info("registrar: {} binding(s) read back from the store", restored);
        // Where this node had read the cluster's stream: it goes on from there.
        if (auto kept = store_->get_state(stream_position_key)) cluster_resume_after_ = kept->value_or("");
        admin_ = std::make_shared<admin::admin_api>(http_io_.get_executor(), io_.get_executor(), core_, std::move(store_),
                                                    docs_, std::move(settings));
        for (auto& w : workers_) w->core().set_cdr_sink([admin = admin_](call_record&& r) { admin->record_cdr(std::move(r)); });
        // A REGISTER here changed an account's bindings: the store keeps them, and in a cluster
        // the other nodes take them too (on this loop, before any of their events is read).
        core_.pbx_bindings().set_binding_sink(
            [this, admin = admin_](const std::string& user, const std::vector<registration::binding>& now) {
                std::vector<admin::timed_binding> timed;
                timed.reserve(now.size());
                for (const auto& b : now) timed.emplace_back(b, core_.wall_time(b.expires_at));
                if (cluster_) cluster_->publish_bindings(admin::account_bindings_json(user, timed));
                keep_bindings(*admin, user, timed);
            });
    }

    static void keep_bindings(admin::admin_api& admin, const std::string& user,
                              const std::vector<admin::timed_binding>& now) {
        std::vector<std::pair<std::string, std::string>> rows;
        rows.reserve(now.size());
        for (const auto& [b, expires] : now) rows.emplace_back(b.contact, admin::binding_json(b, expires));
        admin.record_bindings(user, std::move(rows));
    }

    // The cluster's shared state (cluster.redis), on the primary loop: leases for the trunks
    // this node may register, bans imposed anywhere applied on every worker's gate.
    void start_cluster() {
        cluster_node::hooks h;
        h.registering = [this] { return core_.registering_trunks(); };
        h.own = [this](const std::string& trunk, bool owned) { core_.own_trunk_registration(trunk, owned); };
        h.ban = [this](const boost::asio::ip::address& source, std::chrono::seconds length, const std::string& node) {
            for (auto& w : workers_) {
                boost::asio::post(w->io(), [g = &w->gate(), source, length, node] { g->apply_shared_ban(source, length, node); });
            }
        };
        h.unban = [this](const boost::asio::ip::address& source, const std::string& node) {
            for (auto& w : workers_) {
                boost::asio::post(w->io(), [g = &w->gate(), source, node] { g->lift_shared_ban(source, node); });
            }
        };
        // Admin changes made on another node: in their turn among this API's own (any thread).
        h.change = [admin = admin_](std::string body, std::string node) {
            admin->apply_remote_change(body, std::move(node));
        };
        h.own_change = [admin = admin_, node = cfg_.cluster.node_id](std::string body) {
            admin->own_change_passed(body, node);
        };
        // Read up to where the others are: what this node changed but never sent goes now.
        h.caught_up = [admin = admin_] { admin->send_unsent(); };
        h.keep_position = [admin = admin_](std::string id) {
            admin->keep_node_state(std::string(stream_position_key), std::move(id));
        };
        // An account's bindings after a REGISTER on another node: this registrar takes them
        // (calls for the account land anywhere) and the store keeps them, as it keeps its own.
        h.bindings = [this, admin = admin_](std::string body, std::string node) {
            auto account = admin::account_bindings_from_json(body);
            if (!account) {
                spdlog::get("b2bua")->warn("cluster: bindings event from node {} is not one; dropped", node);
                return;
            }
            keep_bindings(*admin, account->user, core_.adopt_pbx_bindings(account->user, std::move(account->bindings), node));
        };
        cluster_ = std::make_unique<cluster_node>(io_.get_executor(), timers_, cfg_.cluster, *registry_, std::move(h));
        // The registrations list names the node that registers a trunk this one does not.
        core_.set_registration_holder([c = cluster_.get()](std::string_view trunk) { return c->holder(trunk); });
        // Before the HTTP thread runs: the API's changes go to the other nodes (never waiting).
        admin_->set_change_publisher([c = cluster_.get()](std::string body) { return c->publish_change(std::move(body)); });
        // The gate that speaks for the node (worker 0's) tells the others what it bans.
        gate_.set_ban_publisher([c = cluster_.get()](const boost::asio::ip::address& source, std::chrono::seconds length) {
            if (length.count() > 0) {
                c->publish_ban(source, length);
            } else {
                c->publish_unban(source);
            }
        });
        if (!cluster_resume_after_.empty()) {
            spdlog::get("b2bua")->info("cluster: reading the shared stream on from {}, where this node left it",
                                       cluster_resume_after_);
        }
        cluster_->start(cluster_resume_after_);
    }

    // What a reload re-reads besides the store's documents (POST /api/v1/reload, SIGHUP): the
    // log level, the calls section and the certificates. On the SIP loop. Throws naming the field
    // when the file is bad.
    std::vector<std::string> reload_files() {
        const auto fresh = load_config(config_path_);
        std::vector<std::string> reloaded;
        const auto lvl = spdlog::level::from_str(fresh.log.level);
        spdlog::apply_all([lvl](const std::shared_ptr<spdlog::logger>& l) { l->set_level(lvl); });
        reloaded.push_back("log.level");
        // The call limits and timers: each core reads them from its worker's copy for each new
        // call, on that worker's loop.
        cfg_.calls = fresh.calls;
        for (auto& w : workers_) {
            boost::asio::post(w->io(), [w = w.get(), calls = fresh.calls] { w->cfg().calls = calls; });
        }
        reloaded.push_back("calls");
        if (tls_loaded_ && reload_tls()) reloaded.push_back("sip.tls");
        return reloaded;
    }

    void start_http() {
        http::http_server_options o;
        o.max_sessions = cfg_.http.max_connections;
        o.max_sessions_per_source = cfg_.http.max_connections_per_source;
        o.header_timeout = cfg_.http.header_timeout;
        o.body_timeout = cfg_.http.body_timeout;
        if (!cfg_.admin.tls.certificate.empty()) o.tls = http::tls_files{cfg_.admin.tls.certificate, cfg_.admin.tls.key};
        http_ = std::make_unique<http::http_server>(
            http_io_.get_executor(), boost::asio::ip::tcp::endpoint(cfg_.http.listen->address, cfg_.http.listen->port),
            std::move(o));
        http_->set_observer(&http_metrics_);
        // While draining, /healthz says so (503), so a load balancer stops sending calls.
        http::add_prometheus_routes(*http_, metrics::with_process_metrics(registry_),
                                    [this] { return draining_.load() ? std::string("draining") : std::string(); });
        // /readyz: listening, configuration loaded (it is, or we would not be here), store writable.
        http_->add_route(boost::beast::http::verb::get, "/readyz", [this](const http::request&) {
            http::response r;
            std::string why;
            if (!listening_.load()) why = "not listening yet";
            if (why.empty()) why = admin_->store_readiness();
            if (why.empty() && cluster_) why = cluster_->readiness();
            if (draining_.load()) why = "draining";
            if (why.empty()) {
                r.body = "ready\n";
            } else {
                r.status = boost::beast::http::status::service_unavailable;
                r.body = why + "\n";
            }
            return r;
        });
        admin_->add_routes(*http_);
        boost::system::error_code ec;
        try {
            ec = http_->start();
        } catch (const std::runtime_error& e) {
            throw std::runtime_error(std::string("admin.tls: ") + e.what());
        }
        if (ec) {
            throw std::runtime_error("http.listen: cannot listen on " + cfg_.http.listen->to_string() + ": " +
                                     ec.message());
        }
    }

    void run_http() {
        try {
            http_io_.run();
        } catch (const std::exception& e) {
            spdlog::get("b2bua")->error("HTTP server thread failed: {}", e.what());
        }
    }

    // Closes the server on its own thread; its loop then runs out of work and the thread ends.
    void stop_http() {
        if (!http_thread_.joinable()) return;
        boost::asio::post(http_io_, [this] {
            admin_->shutdown();  // the last call detail records go to the store
            if (http_) http_->stop();
        });
        http_thread_.join();
    }

    void do_wait_signal() {
        signals_->async_wait([this](boost::system::error_code ec, int signo) { on_signal(ec, signo); });
    }

    void on_signal(boost::system::error_code ec, int signo) {
        if (ec) return;  // operation_aborted: the signal set is going away with us
        auto log = spdlog::get("b2bua");
        if (signo == SIGHUP) {
            // SIGHUP reloads like POST /api/v1/reload: the store's trunks, users and routes,
            // the log level and the certificates, on the admin thread.
            // systemd (ExecReload= sends it) shows "reloading" until READY=1 says it is over.
            notifier_.reloading();
            boost::asio::post(http_io_, [this, admin = admin_, log] {
                admin->reload_all("SIGHUP", [this, log](http::response r) {
                    if (r.status == boost::beast::http::status::ok) {
                        log->info("SIGHUP: reloaded: {}", r.body);
                    } else {
                        log->error("SIGHUP: reload failed: {}", r.body);
                    }
                    notifier_.ready(r.status == boost::beast::http::status::ok
                                        ? serving_
                                        : "reload failed (see the log); the previous configuration stays in use");
                });
            });
            return do_wait_signal();
        }
        // SIGTERM, SIGINT: the first drains (new calls get 503, calls in progress may finish
        // for calls.drain_s, then get BYE), the second ends the calls at once, a third stops
        // without waiting for their answers.
        ++stop_signals_;
        if (stop_signals_ >= 3) {
            log->warn("signal {}: stopping now, {} call(s) left", signo, active_calls());
            return stop();
        }
        if (stop_signals_ == 1) {
            log->info("signal {}: shutting down: {} call(s) in progress may go on for up to {} s; new calls get 503 "
                      "(another signal ends them at once)",
                      signo, active_calls(), cfg_.calls.drain.count());
        } else {
            log->info("signal {}: shutting down now: ending {} call(s)", signo, active_calls());
        }
        do_wait_signal();
        if (stop_signals_ == 1) {
            notifier_.stopping("draining: " + std::to_string(active_calls()) + " call(s) may go on for up to " +
                               std::to_string(cfg_.calls.drain.count()) + " s; new calls get 503");
        }
        draining_.store(true);
        // Every worker drains its calls; once the last is done, stop from this loop (`done` may
        // come from deep inside a core: the last call's end).
        auto left = std::make_shared<std::atomic<std::size_t>>(workers_.size());
        for (auto& w : workers_) {
            boost::asio::post(w->io(), [this, w = w.get(), left, grace = cfg_.calls.drain] {
                w->core().drain(grace, [this, left] {
                    if (left->fetch_sub(1) == 1) boost::asio::post(io_, [this] { stop(); });
                });
            });
        }
    }

    // New handshakes use these contexts; connections already up keep the ones they were made with.
    void install_tls(sip::tls_contexts contexts) {
        tls_not_after_ = contexts.not_after;
        for (std::size_t i = 1; i < workers_.size(); ++i) {
            if (!listening_.load()) {
                workers_[i]->transport().set_tls(contexts);  // before the loops run
            } else {
                boost::asio::post(workers_[i]->io(), [w = workers_[i].get(), contexts] { w->transport().set_tls(contexts); });
            }
        }
        transport_.set_tls(std::move(contexts));
        tls_loaded_ = true;
    }

    bool reload_tls() {
        auto log = spdlog::get("b2bua");
        try {
            install_tls(sip::load_tls(cfg_.sip.tls));
        } catch (const sip::tls_error& e) {
            log->error("reload: TLS reload failed, the loaded certificate stays in use: {}", e.what());
            return false;
        }
        tls_metrics_.set_certificate_expiry(tls_not_after_);
        log->info("reload: TLS certificate reloaded from {} (notAfter {}); new connections use it, connections up "
                  "keep theirs",
                  cfg_.sip.tls.certificate.empty() ? std::string("(none: CA only)") : cfg_.sip.tls.certificate,
                  tls_not_after_ ? utc(*tls_not_after_) : std::string("-"));
        return true;
    }

    // What `systemctl status` shows while we run: where SIP is served. Read from the SIP loop's
    // transport before the HTTP thread starts; a reload (on that thread) shows the copy.
    std::string serving_status() const {
        std::string s = "serving SIP on";
        for (const auto& [kind, ep] : transport_.listening()) {
            s += " " + boost::algorithm::to_lower_copy(std::string(sip::to_string(kind))) + "://" + ep.to_string();
        }
        return s;
    }

    // Stops everything that keeps the event loop busy, so run() returns.
    void stop() {
        if (stopped_) return;
        stopped_ = true;
        if (watchdog_) watchdog_->stop();
        signals_->cancel();
        for (std::size_t i = 1; i < workers_.size(); ++i) {
            boost::asio::post(workers_[i]->io(), [w = workers_[i].get()] { w->stop(); });
        }
        workers_.front()->stop();
    }

    std::string config_path_;
    YAML::Node file_root_;
    std::unique_ptr<admin::store> store_;  ///< until the admin API takes it
    admin::document_set docs_;
    config cfg_;
    std::shared_ptr<prometheus::Registry> registry_;
    b2bua_metrics metrics_;
    tls_metrics tls_metrics_;
    gate_metrics gate_metrics_{*registry_};
    /// The event loops (sip.workers), worker 0 first: it runs on the thread that calls run(),
    /// holds the stream listeners and speaks for all (health checks, registrations, registrar,
    /// the admin API's view for now).
    std::vector<std::unique_ptr<sip_worker>> workers_ = make_workers(cfg_, metrics_, gate_metrics_);
    // Worker 0's parts, by the names the single-loop wiring had.
    boost::asio::io_context& io_ = workers_.front()->io();
    asio_timer_service& timers_ = workers_.front()->timers();
    sip::asio_transport& transport_ = workers_.front()->transport();
    core& core_ = workers_.front()->core();
    source_gate& gate_ = workers_.front()->gate();
    /// cluster.redis: shared leases, bans and admin changes; none without it.
    std::unique_ptr<cluster_node> cluster_;
    /// The store's key for how far this node read the cluster's stream, and what it held at start.
    static constexpr std::string_view stream_position_key = "cluster_stream";
    std::string cluster_resume_after_;
    std::unique_ptr<boost::asio::signal_set> signals_ =
        std::make_unique<boost::asio::signal_set>(io_, SIGINT, SIGTERM, SIGHUP);
    service_notifier notifier_;
    std::string serving_;  ///< the status line; written before the HTTP thread starts, then read-only
    std::unique_ptr<service_watchdog> watchdog_;  ///< under a systemd watchdog only
    /// The HTTP server's loop and thread; the loop outlives the server, which runs on it.
    boost::asio::io_context http_io_{1};
    http_metrics http_metrics_{*registry_};
    /// Set by the SIP loop when SIGTERM starts the drain; read by /healthz on the HTTP thread.
    std::atomic<bool> draining_{false};
    std::atomic<bool> listening_{false};
    std::shared_ptr<admin::admin_api> admin_;
    std::unique_ptr<http::http_server> http_;
    std::thread http_thread_;
    int stop_signals_ = 0;
    bool stopped_ = false;
    bool tls_loaded_ = false;
    std::optional<std::chrono::system_clock::time_point> tls_not_after_;
};

application::application(config cfg, std::string config_path, std::string_view version) {
    // First, before building anything that can fail: a startup error in the log then follows
    // the lines naming the build and its configuration.
    auto log = spdlog::get("b2bua");
    log->info("b2bua {} starting", version);
    log->info("config: {}", config_summary(cfg));
    impl_ = std::make_unique<impl>(std::move(cfg), std::move(config_path));
}

application::~application() = default;

void application::run() { impl_->run(); }

}  // namespace b2b::b2bua
