// The PBXs' registrations: REGISTER authenticated, bindings kept, destinations for inbound calls.
#include "b2bua/pbx_registrations.hpp"

#include "b2bua/detail/log_text.hpp"
#include "dialog/dialog.hpp"

#include <spdlog/spdlog.h>

namespace b2b::b2bua {

pbx_registrations::pbx_registrations(const config::downstream_section& cfg, downstream_auth& auth,
                                     b2bua_metrics& metrics, auth_failure_log& failures,
                                     failure_log_limiter& line_limiter, sip::timer_service& timers,
                                     raw_sender send,
                                     std::function<std::chrono::system_clock::time_point()> wall_now,
                                     std::shared_ptr<spdlog::logger> log)
    : auth_(auth),
      metrics_(metrics),
      failures_(failures),
      failure_lines_(line_limiter),
      timers_(timers),
      wall_now_(std::move(wall_now)),
      log_(std::move(log)),
      registrar_(cfg.registrar, wall_now_),
      maintenance_(registrar_, timers, cfg.registrar_keepalive, std::move(send), [this] { bindings_changed(); }) {}

pbx_registrations::~pbx_registrations() = default;

void pbx_registrations::start() { maintenance_.start(); }

void pbx_registrations::bindings_changed() {
    metrics_.registrations().set_bindings(registrar_.size());
    if (!publish_) return;
    // One copy for every other worker: a PBX registers every minute or so, a call to it may come
    // at any moment on any worker. Expiry needs no new table: readers skip what has expired.
    auto table = std::make_shared<binding_table>();
    registrar_.for_each([&](const registration::binding& b) { (*table)[b.user].push_back(b); });
    publish_(std::move(table));
}

void pbx_registrations::set_binding_publisher(binding_publisher publish) {
    publish_ = std::move(publish);
    bindings_changed();
}

void pbx_registrations::on_register(const sip::message& request, const sip::flow& f, const responder& respond) {
    // §10.3 steps 1-5: the PBX proves who it is like for any request; the registrar then checks
    // that the account is the address-of-record's.
    const auto decision = authenticate_pbx(auth_, metrics_, failures_, {*log_, failure_lines_}, request, f.remote, wall_now_());
    if (decision.action != auth_decision::kind::accept) {
        return respond(decision.status, decision.reason_phrase, challenge_headers(decision));
    }
    const auto answer = registrar_.on_register(decision.username, request, f, timers_.now());
    header_list headers;
    headers.reserve(answer.headers.size());
    for (const auto& [name, value] : answer.headers) headers.emplace_back(name, value);
    if (answer.status >= 300) {
        respond(answer.status, answer.reason, headers);
        log_->info("registrar: REGISTER of {} from {} refused: {} {}", detail::clip(decision.username), f.remote.to_string(),
                   answer.status, answer.reason);
        return;
    }
    // The bindings' keep-alives, gauge and other workers' copies are current before the 200
    // goes: a PBX (or an operator) acting on the 200 finds the change already made.
    if (answer.changed) {
        maintenance_.bindings_changed();
        bindings_changed();
    }
    respond(answer.status, answer.reason, headers);
    if (!answer.changed) return;
    const auto current = registrar_.bindings_of(decision.username, timers_.now());
    if (sink_) {
        std::vector<registration::binding> now;
        now.reserve(current.size());
        for (const auto* b : current) now.push_back(*b);
        sink_(decision.username, now);
    }
    std::string contacts;
    for (const auto* b : current) {
        if (!contacts.empty()) contacts += ", ";
        contacts += b->contact;
        if (b->behind_nat) contacts += " (behind NAT, via " + b->source.remote.to_string() + ')';
    }
    log_->info("registrar: {:?} from {} now has {} binding(s): {}", decision.username, f.remote.to_string(),
               current.size(), contacts.empty() ? std::string("none") : contacts);
}

bool pbx_registrations::restore(registration::binding b, std::chrono::system_clock::time_point expires) {
    const auto left = expires - wall_now_();
    if (left <= std::chrono::seconds(0)) return false;
    const auto now = timers_.now();
    b.expires_at = now + std::chrono::duration_cast<sip::timer_service::duration>(left);
    b.registered_at = now;
    registrar_.restore(std::move(b));
    maintenance_.bindings_changed();
    bindings_changed();
    return true;
}

std::vector<pbx_registrations::timed_binding> pbx_registrations::adopt(const std::string& user,
                                                                        std::vector<timed_binding> now) {
    const auto wall = wall_now_();
    const auto steady = timers_.now();
    std::erase_if(now, [&](const timed_binding& t) { return t.second <= wall || t.first.user != user; });
    std::vector<registration::binding> kept;
    kept.reserve(now.size());
    for (const auto& [b, expires] : now) {
        auto& k = kept.emplace_back(b);
        k.expires_at = steady + std::chrono::duration_cast<sip::timer_service::duration>(expires - wall);
        k.registered_at = steady;
    }
    registrar_.replace(user, std::move(kept));
    maintenance_.bindings_changed();
    bindings_changed();
    return now;
}

registered_destination destination_of(const registration::binding& b) {
    registered_destination d;
    d.contact = b.contact;
    d.transport = b.source.transport;
    d.address = b.destination;
    if (!b.path.empty()) {
        // RFC 3327 §5.3: through the proxies it registered through, to the first of them (a
        // new connection over a stream: the one the REGISTER came on is that proxy's own).
        d.route_set = b.path;
        return d;
    }
    // Behind NAT, or over the connection the PBX opened: on the REGISTER's own flow.
    if (b.behind_nat || b.source.reliable()) d.pinned = b.source;
    if (b.source.reliable()) {
        // The binding's own NAT test compares address and port, and a connection's source
        // port is never the listening one: for a new connection the address is what counts.
        const sip::endpoint none{};
        if (auto at = dialog::next_hop(b.contact, none); at != none && at.address == b.source.remote.address) {
            d.reconnect = at;
        }
    }
    return d;
}

std::optional<registered_destination> destination_of(const binding_table& table, std::string_view user,
                                                     sip::timer_service::time_point now) {
    const auto it = table.find(std::string(user));
    if (it == table.end()) return std::nullopt;
    for (const auto& b : it->second) {
        if (b.expires_at > now) return destination_of(b);
    }
    return std::nullopt;
}

std::optional<registered_destination> pbx_registrations::destination_of(std::string_view user) const {
    const auto current = registrar_.bindings_of(user, timers_.now());
    if (current.empty()) return std::nullopt;
    // The most recent registration wins: a PBX that moved (new address, restarted) is reached
    // where it is now, and a stale binding of its old self is not rung in parallel.
    return b2bua::destination_of(*current.front());
}

}  // namespace b2b::b2bua
