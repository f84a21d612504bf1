// This node's part in a cluster sharing Redis.
#include "b2bua/cluster_node.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace b2b::b2bua {

namespace {

constexpr std::string_view ban_kind = "ban";
constexpr std::string_view unban_kind = "unban";
constexpr std::string_view change_kind = "change";
constexpr std::string_view bindings_kind = "bindings";

std::shared_ptr<spdlog::logger> node_logger() {
    auto log = spdlog::get("b2bua");
    return log ? log : spdlog::default_logger()->clone("b2bua");
}

}  // namespace

cluster_node::cluster_node(boost::asio::any_io_executor loop, sip::timer_service& timers,
                           const config::cluster_section& cfg, prometheus::Registry& registry, hooks h)
    : loop_(std::move(loop)), timers_(timers), cfg_(cfg), hooks_(std::move(h)), log_(node_logger()) {
    up_ = &prometheus::BuildGauge()
               .Name("b2bua_cluster_redis_up")
               .Help("1 while the Redis the cluster shares answers this node, 0 while not (calls go on)")
               .Register(registry)
               .Add({});
    leases_ = &prometheus::BuildGauge()
                   .Name("b2bua_cluster_trunk_leases")
                   .Help("Trunks whose registration this node runs for the cluster (it holds their lease)")
                   .Register(registry)
                   .Add({});
    auto& received = prometheus::BuildCounter()
                         .Name("b2bua_cluster_events_applied_total")
                         .Help("Bans, admin changes and PBX registrations made on another node and applied here, by kind")
                         .Register(registry);
    bans_in_ = &received.Add({{"kind", "ban"}});
    changes_in_ = &received.Add({{"kind", "change"}});
    bindings_in_ = &received.Add({{"kind", "bindings"}});
}

cluster_node::~cluster_node() { stop(); }

void cluster_node::start(std::string resume_after) {
    cluster::link_options o;
    if (!resume_after.empty()) {
        // Events are at least once, and each kind is harmless twice: a position kept a few
        // seconds late only hands a few of them over again.
        o.start_after = resume_after;
        kept_position_ = std::move(resume_after);
    }
    o.node_id = cfg_.node_id;
    o.host = cfg_.redis->address.to_string();
    o.port = cfg_.redis->port;
    o.password = cfg_.redis_password;
    o.lease_ttl = cfg_.lease;
    cluster::link_handlers h;
    h.on_status = [this](const cluster::link_status& s) { on_status(s); };
    h.on_event = [this](const cluster::event& e) { on_event(e); };
    h.on_own_event = [this](const cluster::event& e) {
        if (e.kind == change_kind && hooks_.own_change) hooks_.own_change(e.body);
    };
    h.on_leases = [this](const cluster::lease_change& c) { on_leases(c); };
    h.on_caught_up = [this] {
        if (hooks_.caught_up) hooks_.caught_up();
    };
    link_ = std::make_unique<cluster::link>(loop_, std::move(o), std::move(h));
    log_->info("cluster: node {} sharing bans, admin changes, PBX registrations and trunk registrations through Redis at {}",
               cfg_.node_id, cfg_.redis->to_string());
    look();
}

void cluster_node::stop() {
    timers_.cancel(timer_);
    timer_ = 0;
    if (link_) {
        link_->stop();  // the leases go back, so a survivor registers at once
        keep_position();
    }
}

void cluster_node::keep_position() {
    auto id = link_->last_delivered_id();
    if (id == kept_position_ || id.empty() || id == "$" || !hooks_.keep_position) return;
    kept_position_ = id;
    hooks_.keep_position(std::move(id));
}

// Once a second: the trunks that register change with the admin API's changes.
void cluster_node::look() {
    auto names = hooks_.registering ? hooks_.registering() : std::vector<std::string>{};
    std::sort(names.begin(), names.end());
    if (names != wanted_) {
        wanted_ = names;
        link_->want_leases(std::move(names));
    }
    if (++looks_ % 2 == 0) keep_position();
    timer_ = timers_.schedule(std::chrono::seconds(1), [this] { look(); });
}

void cluster_node::on_status(const cluster::link_status& s) {
    up_->Set(s.up ? 1 : 0);
    reachable_ = s.up;
    if (s.up) {
        log_->info("cluster: Redis at {} reachable", cfg_.redis->to_string());
    } else {
        log_->warn("cluster: Redis at {} unreachable ({}): calls go on; bans and changes are shared once it is back",
                   cfg_.redis->to_string(), s.reason);
    }
}

void cluster_node::on_leases(const cluster::lease_change& c) {
    for (const auto& name : c.gained) {
        ++held_;
        if (hooks_.own) hooks_.own(name, true);
    }
    for (const auto& name : c.lost) {
        if (held_ > 0) --held_;
        if (hooks_.own) hooks_.own(name, false);
    }
    leases_->Set(static_cast<double>(held_));
}

void cluster_node::on_event(const cluster::event& e) {
    if (e.kind == change_kind) {
        changes_in_->Increment();
        if (hooks_.change) hooks_.change(e.body, e.node);
        return;
    }
    if (e.kind == bindings_kind) {
        bindings_in_->Increment();
        if (hooks_.bindings) hooks_.bindings(e.body, e.node);
        return;
    }
    // "address seconds" or "address": anything else is a peer's bug, logged and dropped.
    const auto space = e.body.find(' ');
    boost::system::error_code ec;
    const auto source = boost::asio::ip::make_address(e.body.substr(0, space), ec);
    if (ec) {
        log_->warn("cluster: {} event from node {} names no address: {:?}", e.kind, e.node, e.body);
        return;
    }
    if (e.kind == ban_kind) {
        long long seconds = 0;
        const auto digits = space == std::string::npos ? std::string_view() : std::string_view(e.body).substr(space + 1);
        const auto [p, err] = std::from_chars(digits.data(), digits.data() + digits.size(), seconds);
        if (err != std::errc() || p != digits.data() + digits.size() || seconds <= 0) {
            log_->warn("cluster: ban event from node {} has no length: {:?}", e.node, e.body);
            return;
        }
        bans_in_->Increment();
        if (hooks_.ban) hooks_.ban(source, std::chrono::seconds(seconds), e.node);
    } else if (e.kind == unban_kind) {
        if (hooks_.unban) hooks_.unban(source, e.node);
    }
}

void cluster_node::publish_ban(const address& source, std::chrono::seconds length) {
    if (link_) link_->publish(std::string(ban_kind), source.to_string() + ' ' + std::to_string(length.count()));
}

void cluster_node::publish_unban(const address& source) {
    if (link_) link_->publish(std::string(unban_kind), source.to_string());
}

bool cluster_node::publish_change(std::string body) {
    if (!link_ || !link_->publish(std::string(change_kind), std::move(body))) {
        log_->error("cluster: an admin change is not shared: the queue for Redis is full; the other nodes miss it");
        return false;
    }
    return true;
}

void cluster_node::publish_bindings(std::string body) {
    if (link_) link_->publish(std::string(bindings_kind), std::move(body));
}

std::string cluster_node::holder(std::string_view trunk) const { return link_ ? link_->holder(trunk) : std::string(); }

std::string cluster_node::readiness() const {
    if (reachable_.load()) return {};
    return "cluster: Redis at " + cfg_.redis->to_string() + " unreachable (calls go on with what this node has)";
}

}  // namespace b2b::b2bua
