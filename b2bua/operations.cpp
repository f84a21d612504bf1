// What operators see of the core and change in it at run time (the admin API's side).
#include "b2bua/core.hpp"

#include "b2bua/detail/log_text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_set>

namespace b2b::b2bua {

std::string_view to_string(hangup_party p) noexcept {
    switch (p) {
        case hangup_party::none: return "";
        case hangup_party::caller: return "caller";
        case hangup_party::callee: return "callee";
        case hangup_party::b2bua: return "b2bua";
    }
    return "";
}

bool core::is_trunk_source(const sip::endpoint& source) const {
    return sources_.classify(source).what == source_policy::kind::trunk;
}

std::vector<pbx_registrations::timed_binding> core::adopt_pbx_bindings(
    const std::string& user, std::vector<pbx_registrations::timed_binding> now, std::string_view node) {
    for (auto& [b, expires] : now) {
        // The other node's connection means nothing here, and its address is not ours to send
        // from (our Via and Contact name what we send from): over UDP, this node's socket of the
        // PBX's family; over a stream, a new connection, as after a restart.
        b.source.connection = 0;
        if (b.source.transport == sip::transport_kind::udp) {
            if (auto here = transport_.flow_to_host(sip::transport_kind::udp, b.source.remote, {})) {
                b.source.local = here->local;
            }
        }
    }
    auto kept = pbx_registrar_.adopt(user, std::move(now));
    log_->info("registrar: {:?} now has {} binding(s), as registered through node {}", detail::clip(user), kept.size(), node);
    return kept;
}

std::chrono::system_clock::time_point core::wall_time(sip::timer_service::time_point t) const {
    return wall_epoch_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(t - steady_epoch_);
}

call_summary core::summarize(const call& c) const {
    call_summary s;
    s.id = c.id.value;
    s.direction = c.direction;
    switch (c.state) {
        case call_state::calling:
            s.state = !c.attempts.empty() && c.attempts.back().dialogs && c.attempts.back().dialogs->early_dialogs() > 0
                          ? "ringing"
                          : "trying";
            break;
        case call_state::answered:
        case call_state::confirmed: s.state = "answered"; break;
        case call_state::cancelling:
        case call_state::ending: s.state = "ending"; break;
    }
    if (c.direction == call_direction::inbound) {
        s.trunk = trunks_[c.source_trunk]->name;
        if (!c.attempts.empty()) s.peer = c.attempts.back().trunk->name;
    } else if (!c.attempts.empty()) {
        s.trunk = c.attempts.back().trunk->name;
    }
    s.caller = c.caller_number;
    s.dialled = c.dialled_number;
    s.inbound_call_id = std::string(c.in.call_id());
    if (!c.attempts.empty() && c.attempts.back().dialogs) s.outbound_call_id = c.attempts.back().own_side().call_id;
    s.start = wall_time(c.started);
    if (c.answered_at != sip::timer_service::time_point{}) s.answer = wall_time(c.answered_at);
    return s;
}

std::vector<call_summary> core::list_calls(std::uint64_t after, std::size_t limit) const {
    std::vector<std::uint64_t> ids;
    ids.reserve(calls_.size());
    for (const auto& [id, c] : calls_) {
        if (id > after) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    if (ids.size() > limit) ids.resize(limit);
    std::vector<call_summary> out;
    out.reserve(ids.size());
    for (auto id : ids) out.push_back(summarize(*calls_.at(id)));
    return out;
}

std::optional<call_summary> core::find_call(std::uint64_t id) const {
    const auto it = calls_.find(id);
    if (it == calls_.end()) return std::nullopt;
    return summarize(*it->second);
}

void core::end_by_us(call& c, std::string_view reason, int status, std::string_view phrase, call_result result) {
    switch (c.state) {
        case call_state::calling:
            // The far end is cancelled (§9.1) and the caller gets `status`.
            return cancel_outbound(c, status, phrase, result);
        case call_state::answered:
            // The far end answered and the caller's ACK is on its way: the far end's leg is
            // confirmed and ended now; the caller gets its BYE when the ACK arrives (§15: not
            // before), as when the far end hangs up first.
            send_outbound_ack(c);
            c.end_reason = std::string(reason);
            if (c.hangup_by == hangup_party::none) c.hangup_by = hangup_party::b2bua;
            c.state = call_state::ending;
            send_bye(c, leg_side::outbound);
            return maybe_end(c);
        case call_state::confirmed:
            return hang_up(c, std::string(reason));
        case call_state::cancelling:
        case call_state::ending:
            return;  // already on its way out
    }
}

std::optional<std::string_view> core::end_call(std::uint64_t id) {
    const auto it = calls_.find(id);
    if (it == calls_.end()) return std::nullopt;
    call& c = *it->second;
    const bool ringing = c.state == call_state::calling;
    log_->info("call {}: ended by an operator (admin API) while {}", id, to_string(c.state));
    // 480: the callee could not be reached now; the caller may try again (§21.4.18).
    end_by_us(c, "ended by an operator", 480, "Temporarily Unavailable", call_result::ended_by_operator);
    return ringing ? std::string_view("cancel") : std::string_view("bye");
}

namespace {

// Whether `c` comes from trunk `trunk` (inbound) or goes to it (outbound).
bool goes_through(const call& c, std::size_t trunk) {
    return c.direction == call_direction::inbound ? c.source_trunk == trunk
                                                  : !c.attempts.empty() && c.attempts.back().trunk_index == trunk;
}

}  // namespace

std::size_t core::calls_on_trunk(std::string_view name) const {
    const auto it = trunk_index_.find(std::string(name));
    if (it == trunk_index_.end()) return 0;
    const std::size_t i = it->second;
    std::size_t n = 0;
    for (const auto& [id, c] : calls_) {
        if (goes_through(*c, i)) ++n;
    }
    return n;
}

std::size_t core::end_calls_on_trunk(std::string_view name) {
    const auto it = trunk_index_.find(std::string(name));
    if (it == trunk_index_.end()) return 0;
    const std::size_t i = it->second;
    std::vector<std::uint64_t> ids;
    for (const auto& [id, c] : calls_) {
        if (goes_through(*c, i)) ids.push_back(id);
    }
    // end_call may end a call at once (erasing it): collect the ids first.
    for (auto id : ids) end_call(id);
    return ids.size();
}

namespace {

// A copy of `t` that takes part in nothing new: identified by no source, pinged and registered
// never. Calls in progress keep the trunk object they started with.
routing::trunk removed_copy(const routing::trunk& t) {
    routing::trunk r = t;
    r.removed = true;
    r.identify_by = routing::source_identification::none;
    r.inbound_endpoints.clear();
    r.inbound_networks.clear();
    r.registers = false;
    r.selection.options_interval = std::chrono::seconds(0);
    return r;
}

}  // namespace

void core::reconfigure(const std::vector<routing::trunk>& trunks, const std::vector<routing::route>& routes,
                       const std::vector<routing::inbound_route>& inbound_routes) {
    std::vector<std::size_t> changed;
    std::unordered_set<std::string> wanted;
    for (const auto& t : trunks) {
        wanted.insert(t.name);
        if (const auto it = trunk_index_.find(t.name); it != trunk_index_.end()) {
            const std::size_t i = it->second;
            if (*trunks_[i] == t) continue;
            trunks_[i] = std::make_shared<const routing::trunk>(t);
            selection_.set_policy(i, t.selection);
            changed.push_back(i);
            log_->info("trunk {} changed", t.name);
            continue;
        }
        // Indices are never reused: calls, metrics and timers name trunks by index.
        const std::size_t i = trunks_.size();
        trunks_.push_back(std::make_shared<const routing::trunk>(t));
        trunk_index_.emplace(t.name, i);
        selection_.add(t.selection);
        metrics_.add_trunk(t.name);
        changed.push_back(i);
        log_->info("trunk {} added", t.name);
    }
    for (auto it = trunk_index_.begin(); it != trunk_index_.end();) {
        if (wanted.count(it->first) != 0) {
            ++it;
            continue;
        }
        const std::size_t i = it->second;
        trunks_[i] = std::make_shared<const routing::trunk>(removed_copy(*trunks_[i]));
        // Failover of a call in progress passes it over.
        selection_.set_up(i, false);
        changed.push_back(i);
        log_->info("trunk {} removed; {} call(s) in progress keep it", it->first, calls_on_trunk(it->first));
        it = trunk_index_.erase(it);
    }

    routes_ = routing::route_table(routes);
    inbound_routes_ = routing::inbound_route_table(inbound_routes);
    pbx_targets_.clear();
    std::vector<std::string> pbx_names;
    for (const auto& r : inbound_routes_.routes()) {
        pbx_targets_.push_back(std::make_shared<const routing::trunk>(r.target));
        pbx_names.push_back(r.target.name);
    }
    metrics_.set_pbx_targets(pbx_names);
    declare_failovers();

    for (const std::size_t i : changed) targets_->update(i);
    std::vector<routing::trunk> all;
    all.reserve(trunks_.size());
    for (const auto& t : trunks_) all.push_back(*t);
    sources_.set_trunks(all);
    for (std::size_t i = 0; i < trunks_.size(); ++i) {
        if (trunks_[i]->removed || !targets_->by_dns(i)) continue;
        // Resolved addresses of the unchanged trunks named by host still identify them.
        std::vector<sip::endpoint> addresses;
        for (const auto& t : targets_->resolved(i)) addresses.push_back(t.address);
        sources_.set_resolved(i, addresses);
    }
    for (const std::size_t i : changed) {
        if (prober_) prober_->update(i);
        if (registrations_) registrations_->update(i);
    }
}

void core::set_users(const std::vector<user_account>& users) {
    auth_.set_users(users);
    set_account_limits(users);
}

std::vector<core::trunk_status> core::trunks() const {
    std::vector<trunk_status> out;
    for (std::size_t i = 0; i < trunks_.size(); ++i) {
        if (trunks_[i]->removed) continue;
        trunk_status s;
        s.trunk = trunks_[i];
        s.up = selection_.up(i);
        s.active_calls = selection_.active(i);
        out.push_back(std::move(s));
    }
    if (registrations_) {
        registrations_->for_each([&](std::size_t trunk, const registration::registration_status& st) {
            for (auto& s : out) {
                if (s.trunk != trunks_[trunk]) continue;
                s.registration = st;
                if (!registrations_->runs(trunk)) {
                    s.registered_by = registration_holder_ ? registration_holder_(s.trunk->name) : std::string();
                }
            }
        });
    }
    return out;
}

std::optional<std::string> core::registered_elsewhere(std::string_view name) const {
    const auto it = trunk_index_.find(std::string(name));
    if (it == trunk_index_.end() || !registrations_ || !trunks_[it->second]->registers) return std::nullopt;
    if (registrations_->runs(it->second)) return std::nullopt;
    return registration_holder_ ? registration_holder_(name) : std::string();
}

bool core::register_now(std::string_view name) {
    const auto it = trunk_index_.find(std::string(name));
    if (it == trunk_index_.end() || !registrations_) return false;
    return registrations_->register_now(it->second);
}

}  // namespace b2b::b2bua
