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

void user_limits::forget_old(usage& u, time_point now) {
    while (!u.starts.empty() && now - u.starts.front() >= std::chrono::seconds(1)) u.starts.pop_front();
}

void user_limits::set_limits(std::unordered_map<std::string, account_limits> limits) {
    std::erase_if(limits, [](const auto& l) { return l.second.max_calls == 0 && l.second.max_cps == 0; });
    limits_ = std::move(limits);
}

account_limits user_limits::limits_of(const std::string& user) const {
    const auto it = limits_.find(user);
    return it == limits_.end() ? account_limits{} : it->second;
}

user_limits::verdict user_limits::check(const std::string& user, time_point now) {
    const auto it = users_.find(user);
    if (it == users_.end()) return verdict::pass;  // nothing up, nothing started lately
    usage& u = it->second;
    forget_old(u, now);
    if (const auto l = limits_.find(user); l != limits_.end()) {
        if (l->second.max_calls != 0 && u.active >= l->second.max_calls) return verdict::max_calls;
        if (l->second.max_cps != 0 && u.starts.size() >= l->second.max_cps) return verdict::max_cps;
    }
    if (u.active == 0 && u.starts.empty()) users_.erase(it);
    return verdict::pass;
}

void user_limits::on_call_start(const std::string& user, time_point now) {
    usage& u = users_[user];
    forget_old(u, now);
    ++u.active;
    u.starts.push_back(now);
}

void user_limits::on_call_end(const std::string& user) noexcept {
    const auto it = users_.find(user);
    if (it == users_.end() || it->second.active == 0) return;
    // The starts of the last second stay until the next check of this account forgets them.
    --it->second.active;
}

std::size_t user_limits::active(const std::string& user) const {
    const auto it = users_.find(user);
    return it == users_.end() ? 0 : it->second.active;
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
               r.flow.remote.to_string(), r.user, prefix);
    responder.refuse(r, 403, "Forbidden");
    return stage_result::stop;
}

stage_result user_limit_stage::run(ingress_request& r, ingress_responder& responder) {
    if (r.emergency || r.user.empty()) return stage_result::proceed;
    const auto v = table_.check(r.user, now_());
    if (v == user_limits::verdict::pass) return stage_result::proceed;
    const bool calls = v == user_limits::verdict::max_calls;
    const account_limits limits = table_.limits_of(r.user);
    metrics_.call_setup(r.direction, b2bua_metrics::no_trunk, call_result::user_limit);
    metrics_.limits().hit(calls ? limit_kind::user_calls : limit_kind::user_cps);
    log_->warn("call refused: user {:?} from {} is at its {} of {}", r.user, r.flow.remote.to_string(),
               calls ? "max_calls" : "max_cps", calls ? limits.max_calls : std::size_t{limits.max_cps});
    // §21.5.4: the PBX may try again a second later.
    responder.refuse(r, 503, "Service Unavailable", {{"Retry-After", "1"}});
    return stage_result::stop;
}

}  // namespace b2b::b2bua
