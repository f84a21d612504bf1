// A worker's stack, and the hand-over of each checked message to the worker that owns it.
#include "b2bua/sip_worker.hpp"

#include "security/emergency.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

namespace b2b::b2bua {

sip::asio_transport_options transport_options(const config& c, std::uint8_t worker,
                                              std::shared_ptr<sip::connection_budget> budget) {
    sip::asio_transport_options o;
    o.max_message_size = c.sip.max_message_size;
    o.tcp_idle_timeout = c.sip.tcp_idle_timeout;
    o.max_inbound_connections = c.sip.tcp_max_connections;
    o.max_connections_per_source = c.sip.tcp_max_connections_per_source;
    o.max_outbound_connections = c.sip.tcp_max_outbound_connections;
    o.reuse_port = c.sip.workers > 1;
    o.connection_id_base = std::uint64_t{worker} << connection_owner_shift;
    o.budget = std::move(budget);
    return o;
}

sip::transaction_config transaction_settings(const config& c, std::uint8_t worker) {
    sip::transaction_config t;
    t.t1 = c.sip.t1;
    t.t2 = c.sip.t2;
    t.t4 = c.sip.t4;
    t.max_message_size = c.sip.max_message_size;
    // Issue 10 (limits): the bound on transactions; emergency calls always get theirs.
    t.max_transactions = c.overload.max_transactions;
    t.retry_after = c.overload.retry_after;
    t.always_admit = [emergency = c.security.emergency_numbers](const sip::message& m) {
        return m.method() == sip::method::invite && security::dials_emergency(m.request_uri().user, emergency);
    };
    t.server_header = c.security.server_header;
    t.worker = worker;
    return t;
}

std::vector<std::string> trunk_names(const config& cfg) {
    std::vector<std::string> names;
    for (const auto& t : cfg.upstream.trunks) names.push_back(t.name);
    return names;
}

std::vector<std::string> pbx_names(const config& cfg) {
    std::vector<std::string> names;
    for (const auto& r : cfg.inbound_routes) names.push_back(r.target.name);
    return names;
}

sip_worker::sip_worker(std::uint8_t index, std::size_t workers, config cfg, b2bua_metrics& first,
                       gate_metrics& gate_metrics, const shared_usage& usage)
    : index_(index),
      cfg_(std::move(cfg)),
      own_metrics_(index == 0 ? nullptr : std::make_unique<b2bua_metrics>(first, trunk_names(cfg_), pbx_names(cfg_))),
      metrics_(index == 0 ? first : *own_metrics_),
      auth_(cfg_.downstream, cfg_.security.allow_rfc2069, index),
      timers_(io_),
      transport_(io_, transport_options(cfg_, index, usage.connections)),
      sends_(*this),
      core_(cfg_, sends_, timers_, metrics_, auth_, index, usage),
      transactions_(sends_, timers_, core_, transaction_settings(cfg_, index), &metrics_),
      gate_(cfg_.security, timers_, gate_metrics,
            [this](const boost::asio::ip::address& a, std::uint16_t port) { return core_.is_trunk_source({a, port}); },
            security::forwarded_source(forwarding_of(cfg_.cluster))),
      dispatch_(workers, 64 * cfg_.sip.t1) {
    if (std::any_of(cfg_.upstream.trunks.begin(), cfg_.upstream.trunks.end(),
                    [](const routing::trunk& t) { return !t.dns_host.empty(); })) {
        // Trunks named by host are located by DNS on this loop (c-ares), never blocking it.
        sip::resolver::ares_lookup::options o;
        o.servers = cfg_.dns.servers;
        dns_ = std::make_unique<sip::resolver::ares_lookup>(io_.get_executor(), o);
        core_.set_dns(dns_.get());
    }
    core_.attach(transactions_);
    // Every message passes the source gate (bans, flood limit, scanners) before it is parsed;
    // failed digest answers feed its bans.
    gate_.set_next(*this);
    gate_.set_closer(
        [this](const boost::asio::ip::address& a) { transport_.close_from(a, sip::connection_close::banned); });
    transport_.set_user(gate_);
    transport_.set_admission([this](const sip::endpoint& remote) { return gate_.admit_connection(remote); });
    auth_.set_failure_sink([this](const sip::endpoint& source, std::string_view user, auth::failure why) {
        // A source's datagrams are read (and screened) by whichever worker the kernel picks for
        // it: every gate hears of the failures, so each bans at the same count.
        for (sip_worker* w : workers_) {
            if (w == this) {
                gate_.on_auth_failure(source, user, why);
            } else {
                boost::asio::post(w->io_, [w, source, user = std::string(user), why] {
                    w->gate_.on_auth_failure(source, user, why);
                });
            }
        }
        if (workers_.empty()) gate_.on_auth_failure(source, user, why);
    });
    // Every gate holds every ban; the first speaks for them (metrics, log).
    gate_.set_replica(index_ != 0);
    core_.set_gate(&gate_);
    transport_.set_observer(metrics_.connections());
}

sip_worker::~sip_worker() {
    join();
    // Messages handed over after this loop stopped were never taken.
    for (auto& box : inboxes_) {
        handed_over* item = nullptr;
        while (box->queue.pop(item)) delete item;
    }
}

void sip_worker::start() {
    transport_.start();
    core_.start();
    gate_.start();
    core_.watch_event_loop();
}

void sip_worker::stop() {
    gate_.stop();
    transport_.stop();
    if (dns_) dns_->shutdown();
    timers_.shutdown();
}

void sip_worker::run_thread() {
    thread_ = std::thread([this] { io_.run(); });
}

void sip_worker::join() {
    if (thread_.joinable()) thread_.join();
}

void sip_worker::set_workers(std::vector<sip_worker*> all) {
    workers_ = std::move(all);
    inboxes_.clear();
    for (std::size_t i = 0; i < workers_.size(); ++i) inboxes_.push_back(std::make_unique<inbox>());
}

void sip_worker::post_message(std::size_t from, sip::message m, const sip::flow& f) {
    inbox& box = *inboxes_[from];
    auto* item = new handed_over{std::move(m), f};
    if (!box.queue.push(item)) {
        // A full queue (4096 waiting): this one goes by a post of its own, in order after them.
        std::unique_ptr<handed_over> owned(item);
        boost::asio::post(io_, [this, from, owned = std::move(owned)]() mutable {
            take_inbox(from);
            transactions_.receive(std::move(owned->message), owned->flow);
        });
        return;
    }
    if (!box.scheduled.exchange(true)) boost::asio::post(io_, [this, from] { take_inbox(from); });
}

void sip_worker::take_inbox(std::size_t from) {
    inbox& box = *inboxes_[from];
    // Cleared before taking: what is pushed after this either is taken below or posts again.
    box.scheduled.store(false);
    handed_over* item = nullptr;
    while (box.queue.pop(item)) {
        std::unique_ptr<handed_over> owned(item);
        transactions_.receive(std::move(owned->message), owned->flow);
    }
}

boost::system::error_code sip_worker::sender::send(const sip::flow& f, std::string_view bytes) {
    // A stream flow's connection may be another worker's (accepted by its listener, or opened by
    // it): its id names the worker, whose loop alone may write on it.
    // Datagrams leave from this worker's own socket of the port (one SO_REUSEPORT group).
    const std::size_t owner = f.reliable() ? static_cast<std::size_t>(f.connection >> connection_owner_shift) : w_.index_;
    if (owner == w_.index_ || owner >= w_.workers_.size()) return w_.transport_.send(f, bytes);
    if (w_.gone_.count(f.connection) != 0) return boost::asio::error::not_connected;
    sip_worker* to = w_.workers_[owner];
    // Its error (the connection has gone) is the owner's to log: the transactions here learn of
    // the close from on_flow_closed, as every worker does.
    boost::asio::post(to->io_, [to, f, copy = std::string(bytes)] { (void)to->transport_.send(f, copy); });
    return {};
}

void sip_worker::on_bytes(std::string_view bytes, const sip::flow& f, sip::framing fr) {
    if (workers_.size() <= 1) return transactions_.on_bytes(bytes, f, fr);
    // Whatever read it (a datagram socket of the group, a connection this worker holds), the
    // owner of its dialog, transaction or nonce handles it; answers on a connection held here
    // come back through `sender`.
    auto m = transactions_.check(bytes, f, fr);
    if (!m) return;
    const std::size_t owner = dispatch_.owner(*m, timers_.now());
    if (owner == index_) return transactions_.receive(std::move(*m), f);
    workers_[owner]->post_message(index_, std::move(*m), f);
}

void sip_worker::on_framing_error(std::string_view bytes, const sip::flow& f, const sip::parse_error& e) {
    transactions_.on_framing_error(bytes, f, e);
}

void sip_worker::on_flow_closed(const sip::flow& f, boost::system::error_code ec) {
    transactions_.on_flow_closed(f, ec);
    // Transactions on other workers may have sent on this connection (their messages were read
    // here): they learn of its end too.
    if (!f.reliable()) return;
    for (sip_worker* w : workers_) {
        if (w == this) continue;
        boost::asio::post(w->io_, [w, f, ec] {
            w->forget_connection(f.connection);
            w->transactions_.on_flow_closed(f, ec);
        });
    }
}

void sip_worker::forget_connection(std::uint64_t connection) {
    if (!gone_.insert(connection).second) return;
    gone_order_.push_back(connection);
    if (gone_order_.size() > gone_kept) {
        gone_.erase(gone_order_.front());
        gone_order_.pop_front();
    }
}

}  // namespace b2b::b2bua
