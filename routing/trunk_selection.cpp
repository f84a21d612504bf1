// Trunk selection: the pure bookkeeping behind failover order, limits and health.
#include "routing/trunk_selection.hpp"

#include <algorithm>

namespace b2b::routing {

namespace {
constexpr std::chrono::seconds cps_window{1};
}

std::string_view to_string(skip_reason r) noexcept {
    switch (r) {
        case skip_reason::none: return "";
        case skip_reason::limit: return "limit";
        case skip_reason::out_of_service: return "out_of_service";
        case skip_reason::down: return "down";
    }
    return "";
}

std::size_t trunk_selection::add(trunk_selection_policy policy) {
    state s;
    s.policy = std::move(policy);
    trunks_.push_back(std::move(s));
    return trunks_.size() - 1;
}

trunk_selection::trunk_selection(std::vector<trunk_selection_policy> policies) {
    trunks_.reserve(policies.size());
    for (auto& p : policies) {
        state s;
        s.policy = std::move(p);
        trunks_.push_back(std::move(s));
    }
}

skip_reason trunk_selection::check(std::size_t trunk, time_point now, bool exempt_from_limits) const {
    const state& t = trunks_[trunk];
    if (!t.up) return skip_reason::down;
    if (now < t.out_of_service_until) return skip_reason::out_of_service;
    if (exempt_from_limits) return skip_reason::none;
    if (t.policy.max_calls != 0 && t.active >= t.policy.max_calls) return skip_reason::limit;
    if (t.policy.max_cps != 0) {
        // Starts within the sliding second that ends now.
        const auto recent = std::count_if(t.starts.begin(), t.starts.end(),
                                          [&](time_point s) { return now - s < cps_window; });
        if (static_cast<std::size_t>(recent) >= t.policy.max_cps) return skip_reason::limit;
    }
    return skip_reason::none;
}

trunk_selection::choice trunk_selection::pick(std::span<const std::size_t> order, std::size_t from,
                                              time_point now, bool exempt_from_limits) const {
    choice out;
    for (std::size_t i = from; i < order.size(); ++i) {
        const skip_reason why = check(order[i], now, exempt_from_limits);
        if (why == skip_reason::none) {
            out.position = i;
            return out;
        }
        out.skipped.emplace_back(order[i], why);
    }
    return out;
}

void trunk_selection::on_attempt(std::size_t trunk, time_point now) {
    state& t = trunks_[trunk];
    ++t.active;
    if (t.policy.max_cps == 0) return;
    while (!t.starts.empty() && now - t.starts.front() >= cps_window) t.starts.pop_front();
    t.starts.push_back(now);
}

void trunk_selection::on_attempt_end(std::size_t trunk) noexcept {
    state& t = trunks_[trunk];
    if (t.active > 0) --t.active;
}

void trunk_selection::take_out_of_service(std::size_t trunk, time_point until) {
    state& t = trunks_[trunk];
    t.out_of_service_until = std::max(t.out_of_service_until, until);
}

void trunk_selection::set_up(std::size_t trunk, bool up) noexcept { trunks_[trunk].up = up; }

}  // namespace b2b::routing
