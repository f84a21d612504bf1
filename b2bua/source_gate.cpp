// The source gate: pre-parse screening in front of the transaction manager.
#include "b2bua/source_gate.hpp"

#include <spdlog/spdlog.h>

namespace b2b::b2bua {

namespace {

std::shared_ptr<spdlog::logger> gate_logger() {
    auto log = spdlog::get("b2bua");
    return log ? log : spdlog::default_logger()->clone("b2bua");
}

}  // namespace

security::screen_settings screen_settings_of(const config::security_section& cfg) {
    security::screen_settings s;
    s.trusted = cfg.trusted;
    s.ban = cfg.ban;
    s.max_requests_per_second = cfg.max_requests_per_second;
    s.rate_limit_sources = cfg.rate_limit_sources;
    s.scanner_user_agents = cfg.scanner_user_agents;
    s.emergency_numbers = cfg.emergency_numbers;
    return s;
}

security::forwarding_policy forwarding_of(const config::cluster_section& cfg) {
    return {cfg.dispatchers, cfg.source_header};
}

source_gate::source_gate(const config::security_section& cfg, sip::timer_service& timers, gate_metrics& metrics,
                         security::source_screen::trunk_test is_trunk, security::forwarded_source forwarding)
    : screen_(screen_settings_of(cfg), std::move(is_trunk)),
      forwarding_(std::move(forwarding)),
      timers_(timers),
      metrics_(metrics),
      log_(gate_logger()) {
    metrics_.banned_sources(0);
}

source_gate::~source_gate() { stop(); }

void source_gate::start() {
    if (expiry_ == 0) schedule_expiry();
}

void source_gate::stop() {
    timers_.cancel(expiry_);
    expiry_ = 0;
}

void source_gate::schedule_expiry() {
    expiry_ = timers_.schedule(std::chrono::seconds(1), [this] {
        if (const auto lifted = screen_.bans().expire(timers_.now()); lifted > 0 && !replica_) {
            log_->info("security: {} ban(s) ended; {} source(s) banned", lifted, screen_.bans().active());
        }
        sync_gauge();
        schedule_expiry();
    });
}

void source_gate::sync_gauge() {
    // The tables count what they forgot; the metric gets the news once a second.
    const auto ban_evictions = screen_.bans().evictions();
    const auto rate_evictions = screen_.rates().evictions();
    if (ban_evictions > shown_ban_evictions_ && !replica_) {
        metrics_.evicted_from_ban_list(ban_evictions - shown_ban_evictions_);
    }
    if (rate_evictions > shown_rate_evictions_) metrics_.evicted_from_rate_table(rate_evictions - shown_rate_evictions_);
    shown_ban_evictions_ = ban_evictions;
    shown_rate_evictions_ = rate_evictions;
    const auto n = screen_.bans().active();
    if (n == shown_banned_ || replica_) return;
    shown_banned_ = n;
    metrics_.banned_sources(n);
}

void source_gate::on_bytes(std::string_view bytes, const sip::flow& f, sip::framing fr) {
    security::source_endpoint source{f.remote.address, f.remote.port};
    const bool forwarded = forwarding_.from_front(f.remote.address);
    if (forwarded) {
        const auto o = forwarding_.resolve(f.remote.address, f.remote.port,
                                           security::peek_header(bytes, forwarding_.header()));
        // The balancer's own requests (its OPTIONS probes), responses and a header it could not
        // write go on unscreened: the core answers them (200 to a probe, 400 to a broken header).
        if (o.how != security::forwarded_source::kind::forwarded) {
            next_->on_bytes(bytes, f, fr);
            return;
        }
        source = o.source;
    }
    const auto v = screen_.screen(bytes, source.address, source.port, timers_.now());
    sync_gauge();
    if (v == security::verdict::pass) {
        next_->on_bytes(bytes, f, fr);
        return;
    }
    // Dropped without an answer (RFC 3261 §8.2 would have us answer, but an answer is what a
    // scanner or a flood wants: it confirms a live SIP server and costs us the sending).
    metrics_.dropped(v);
    // The balancer's connection carries every PBX's requests: only the banned one's are dropped.
    if (v == security::verdict::banned && f.reliable() && close_ && !forwarded) close_(f.remote.address);
}

void source_gate::on_framing_error(std::string_view bytes, const sip::flow& f, const sip::parse_error& e) {
    if (forwarding_.from_front(f.remote.address)) return next_->on_framing_error(bytes, f, e);
    // A banned source learns nothing, not even a 400; the transport closes the connection anyway.
    if (screen_.bans().banned(f.remote.address, timers_.now()) && !screen_.exempt(f.remote.address, f.remote.port)) {
        metrics_.dropped(security::verdict::banned);
        return;
    }
    next_->on_framing_error(bytes, f, e);
}

void source_gate::on_flow_closed(const sip::flow& f, boost::system::error_code ec) { next_->on_flow_closed(f, ec); }

bool source_gate::admit_connection(const sip::endpoint& remote) {
    if (forwarding_.from_front(remote.address)) return true;
    return screen_.admit_connection(remote.address, remote.port, timers_.now());
}

bool source_gate::counts_towards_ban(auth::failure why) noexcept {
    switch (why) {
        // Guessing: a password, a user name, or an answer made up or replayed.
        case auth::failure::wrong_password:
        case auth::failure::unknown_user:
        case auth::failure::invalid_nonce:
        case auth::failure::replayed_nonce:
        case auth::failure::realm_mismatch:
        case auth::failure::uri_mismatch:
        case auth::failure::malformed_credentials:
            return true;
        // A device's honest state or configuration: an expired nonce, an algorithm it lacks,
        // first challenges it never answered, an address outside allowed_sources (403 before
        // any hashing). Banning for these would cut off PBXs, not attackers.
        default:
            return false;
    }
}

void source_gate::on_auth_failure(const sip::endpoint& source, std::string_view username, auth::failure why) {
    if (!counts_towards_ban(why) || forwarding_.from_front(source.address)) return;
    if (auto b = screen_.auth_failure(source.address, source.port, username, timers_.now())) {
        banned(*b, b->username.empty()
                       ? std::to_string(screen_.bans().policy().failures) + " failed digest answers from it within " +
                             std::to_string(screen_.bans().policy().window.count()) + " s"
                       : std::to_string(screen_.bans().policy().failures) + " failed digest answers for its user name "
                             "within " + std::to_string(screen_.bans().policy().window.count()) + " s");
    }
}

void source_gate::banned(const security::ban& b, std::string_view why) {
    if (close_) close_(b.source);
    if (replica_) return;
    metrics_.ban_imposed();
    sync_gauge();
    const auto length = std::chrono::ceil<std::chrono::seconds>(b.until - timers_.now());
    // The user name is the peer's text: quoted and escaped ({:?}), and already cut to 128 octets.
    log_->warn("security: {} banned for {} s (ban {} in a row): {}{}", b.source.to_string(), length.count(), b.count,
               why, b.username.empty() ? std::string() : fmt::format(" (user {:?})", b.username));
    if (publish_ && !sharing_in_) publish_(b.source, length);
}

void source_gate::apply_shared_ban(const address& source, std::chrono::seconds length, std::string_view node) {
    if (exempt(source)) return;
    auto b = screen_.bans().add(source, length, timers_.now());
    sharing_in_ = true;
    banned(b, "by cluster node " + std::string(node));
    sharing_in_ = false;
}

void source_gate::lift_shared_ban(const address& source, std::string_view node) {
    const bool was = screen_.bans().remove(source, timers_.now());
    sync_gauge();
    if (was && !replica_) log_->info("security: the ban of {} lifted on cluster node {}", source.to_string(), node);
}

std::vector<security::ban> source_gate::bans() {
    auto out = screen_.bans().bans(timers_.now());
    sync_gauge();
    return out;
}

std::optional<std::string> source_gate::add_ban(const address& source, std::chrono::seconds duration) {
    if (exempt(source)) {
        return source.to_string() +
               " is exempt (security.trusted, a trunk's source or a cluster dispatcher): it cannot be banned";
    }
    auto b = screen_.bans().add(source, duration, timers_.now());
    banned(b, "by an operator");
    return std::nullopt;
}

bool source_gate::remove_ban(const address& source) {
    const bool was = screen_.bans().remove(source, timers_.now());
    sync_gauge();
    if (was && !replica_) {
        log_->info("security: the ban of {} lifted by an operator", source.to_string());
        if (publish_) publish_(source, std::chrono::seconds(0));
    }
    return was;
}

}  // namespace b2b::b2bua
