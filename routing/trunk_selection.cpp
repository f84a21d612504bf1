// Trunk selection: the pure bookkeeping behind failover order, limits and health.
#include "routing/trunk_selection.hpp"

namespace b2b::routing {

namespace {

std::int64_t ticks(trunk_selection::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(skip_reason r) noexcept {
    switch (r) {
        case skip_reason::none: return "";
        case skip_reason::limit: return "limit";
        case skip_reason::out_of_service: return "out_of_service";
        case skip_reason::down: return "down";
    }
    return "";
}

std::shared_ptr<trunk_usage> trunk_usage_table::at(std::size_t index) {
    const std::lock_guard lock(mutex_);
    if (trunks_.size() <= index) trunks_.resize(index + 1);
    if (!trunks_[index]) trunks_[index] = std::make_shared<trunk_usage>();
    return trunks_[index];
}

std::size_t trunk_selection::add(trunk_selection_policy policy) {
    const std::size_t index = trunks_.size();
    trunks_.push_back({std::move(policy), shared_->at(index)});
    return index;
}

trunk_selection::trunk_selection(std::vector<trunk_selection_policy> policies,
                                 std::shared_ptr<trunk_usage_table> shared)
    : shared_(std::move(shared)) {
    trunks_.reserve(policies.size());
    for (auto& p : policies) add(std::move(p));
}

skip_reason trunk_selection::check(std::size_t trunk, time_point now, bool exempt_from_limits) const {
    const state& t = trunks_[trunk];
    if (!t.usage->up.load(std::memory_order_relaxed)) return skip_reason::down;
    if (ticks(now) < t.usage->out_of_service_until.load(std::memory_order_relaxed)) return skip_reason::out_of_service;
    if (exempt_from_limits) return skip_reason::none;
    return t.usage->calls.check(now, t.policy.max_calls, t.policy.max_cps) == call_usage::verdict::pass
               ? skip_reason::none
               : skip_reason::limit;
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

skip_reason trunk_selection::take(std::size_t trunk, time_point now, bool exempt_from_limits) {
    // Health and out of service first, as `check` orders them; the limits are taken in one step
    // with the other loops, so two of them never both take a trunk's last slot.
    if (const skip_reason why = check(trunk, now, true); why != skip_reason::none) return why;
    const state& t = trunks_[trunk];
    return t.usage->calls.try_start(now, t.policy.max_calls, t.policy.max_cps, exempt_from_limits) ==
                   call_usage::verdict::pass
               ? skip_reason::none
               : skip_reason::limit;
}

void trunk_selection::on_attempt_end(std::size_t trunk) noexcept { trunks_[trunk].usage->calls.end(); }

void trunk_selection::take_out_of_service(std::size_t trunk, time_point until) {
    // The later deadline wins, whichever loop saw the 503.
    std::atomic<std::int64_t>& at = trunks_[trunk].usage->out_of_service_until;
    std::int64_t now = at.load(std::memory_order_relaxed);
    while (now < ticks(until) && !at.compare_exchange_weak(now, ticks(until), std::memory_order_relaxed)) {
    }
}

void trunk_selection::set_up(std::size_t trunk, bool up) noexcept {
    trunks_[trunk].usage->up.store(up, std::memory_order_relaxed);
}

}  // namespace b2b::routing
