// Toll fraud and per-account limits on new calls.
#include "b2bua/call_limits.hpp"

#include "sip/message/uri.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace b2b::b2bua {

std::string_view blocked_prefix(std::string_view number, const std::vector<std::string>& prefixes) {
    for (const auto& p : prefixes) {
        if (number.starts_with(p)) return p;
    }
    return {};
}

std::shared_ptr<routing::call_usage> account_usage_table::at(const std::string& user) {
    const std::lock_guard lock(mutex_);
    auto& u = accounts_[user];
    if (!u) u = std::make_shared<routing::call_usage>();
    return u;
}

void user_limits::set_limits(const std::unordered_map<std::string, account_limits>& limits) {
    std::unordered_map<std::string, account> next;
    for (const auto& [user, l] : limits) next.emplace(user, account{l, shared_->at(user)});
    accounts_ = std::move(next);
}

account_limits user_limits::limits_of(const std::string& user) const {
    const auto it = accounts_.find(user);
    return it == accounts_.end() ? account_limits{} : it->second.limits;
}

user_limits::verdict user_limits::check(const std::string& user, time_point now) const {
    const auto it = accounts_.find(user);
    if (it == accounts_.end()) return verdict::pass;
    return it->second.usage->check(now, it->second.limits.max_calls, it->second.limits.max_cps);
}

user_limits::verdict user_limits::try_start(const std::string& user, time_point now, bool exempt,
                                            routing::call_usage_hold& hold) {
    const auto it = accounts_.find(user);
    if (it == accounts_.end()) return verdict::pass;
    const account& a = it->second;
    // Starts are counted for max_cps only: an account without one keeps no window.
    const verdict v = a.usage->try_start(now, a.limits.max_calls, a.limits.max_cps, exempt);
    if (v == verdict::pass) hold = routing::call_usage_hold(a.usage);
    return v;
}

std::size_t user_limits::active(const std::string& user) const {
    const auto it = accounts_.find(user);
    return it == accounts_.end() ? 0 : it->second.usage->active();
}

stage_result blocked_prefix_stage::run(ingress_request& r, ingress_responder& responder) {
    // Toll fraud goes out through the trunks: calls from a trunk to a PBX are not screened.
    if (r.direction != call_direction::outbound || prefixes_.empty()) return stage_result::proceed;
    std::string_view prefix = blocked_prefix(r.dialled, prefixes_);
    const std::string rewritten = sip::unescape(r.number);
    if (prefix.empty()) prefix = blocked_prefix(rewritten, prefixes_);
    if (prefix.empty()) return stage_result::proceed;
    metrics_.call_setup(r.direction, b2bua_metrics::no_trunk, call_result::blocked);
    metrics_.limits().hit(limit_kind::blocked_prefix);
    log_->warn("call refused: {:?} (sent as {:?}) from {} user {:?} matches blocked prefix {:?}", r.dialled, rewritten,
               r.source.to_string(), r.user, prefix);
    responder.refuse(r, 403, "Forbidden");
    return stage_result::stop;
}

stage_result user_limit_stage::run(ingress_request& r, ingress_responder& responder) {
    if (r.user.empty()) return stage_result::proceed;
    // Every call of an account holds a slot, emergency ones too (they pass, but they count).
    const auto v = table_.try_start(r.user, now_(), r.emergency, r.account_slot);
    if (v == user_limits::verdict::pass) return stage_result::proceed;
    const bool calls = v == user_limits::verdict::max_calls;
    const account_limits limits = table_.limits_of(r.user);
    metrics_.call_setup(r.direction, b2bua_metrics::no_trunk, call_result::user_limit);
    metrics_.limits().hit(calls ? limit_kind::user_calls : limit_kind::user_cps);
    log_->warn("call refused: user {:?} from {} is at its {} of {}", r.user, r.source.to_string(),
               calls ? "max_calls" : "max_cps", calls ? limits.max_calls : std::size_t{limits.max_cps});
    // §21.5.4: the PBX may try again a second later.
    responder.refuse(r, 503, "Service Unavailable", {{"Retry-After", "1"}});
    return stage_result::stop;
}

}  // namespace b2b::b2bua
