// Which trunk of a route takes the next attempt: limits, out-of-service periods and health.
#pragma once

#include "routing/trunk.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace b2b::routing {

/// Why a trunk was passed over. `none` means it may take the attempt.
enum class skip_reason : std::uint8_t {
    none,
    limit,           ///< max_calls or max_cps reached
    out_of_service,  ///< it answered 503 with Retry-After, which has not passed yet
    down,            ///< its OPTIONS pings failed (health)
};
/// "limit", "out_of_service", "down" (the `status` of b2bua_trunk_failovers_total); "" for none.
std::string_view to_string(skip_reason r) noexcept;

/// The selection state of every configured trunk (by index): calls it carries, recent call
/// starts (max_cps), out-of-service deadline, health. Pure: the caller passes the time and
/// reports what happened; nothing here sends or schedules.
///
/// @par Thread safety
/// None: owned by the core, on its event loop.
class trunk_selection {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    explicit trunk_selection(std::vector<trunk_selection_policy> policies);

    /// Whether `trunk` may take a new attempt at `now`, and if not, why (health first, then
    /// out of service, then limits).
    /// `exempt_from_limits`: an emergency call, which max_calls and max_cps never refuse.
    skip_reason check(std::size_t trunk, time_point now, bool exempt_from_limits = false) const;

    /// The first trunk of `order` (trunk indices, a route's order) at or after position
    /// `from` that may take an attempt, with the ones passed over on the way.
    struct choice {
        std::optional<std::size_t> position;  ///< into `order`; empty when none is left
        std::vector<std::pair<std::size_t, skip_reason>> skipped;  ///< (trunk index, why)
    };
    choice pick(std::span<const std::size_t> order, std::size_t from, time_point now,
                bool exempt_from_limits = false) const;

    /// An attempt started on `trunk`: it holds a call slot until `on_attempt_end`, and counts
    /// towards max_cps for one second.
    void on_attempt(std::size_t trunk, time_point now);
    void on_attempt_end(std::size_t trunk) noexcept;
    /// RFC 3261 §21.5.4: 503 with Retry-After: nothing more for this trunk until `until`.
    void take_out_of_service(std::size_t trunk, time_point until);
    /// Health (OPTIONS) verdict; every trunk starts up.
    void set_up(std::size_t trunk, bool up) noexcept;

    /// A trunk added at run time: the next index, up, carrying nothing.
    std::size_t add(trunk_selection_policy policy);
    /// A trunk's limits changed at run time: its calls, recent starts, out-of-service period
    /// and health stay as they are (they describe the same provider).
    void set_policy(std::size_t trunk, trunk_selection_policy policy) { trunks_[trunk].policy = std::move(policy); }

    std::size_t active(std::size_t trunk) const noexcept { return trunks_[trunk].active; }
    bool up(std::size_t trunk) const noexcept { return trunks_[trunk].up; }
    std::size_t size() const noexcept { return trunks_.size(); }

private:
    struct state {
        trunk_selection_policy policy;
        std::size_t active = 0;
        std::deque<time_point> starts;  // within the last second, oldest first (max_cps)
        time_point out_of_service_until{};
        bool up = true;
    };
    std::vector<state> trunks_;
};

}  // namespace b2b::routing
