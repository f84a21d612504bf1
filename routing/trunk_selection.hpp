// Which trunk of a route takes the next attempt: limits, out-of-service periods and health.
#pragma once

#include "routing/call_usage.hpp"
#include "routing/trunk.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
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

/// What every event loop knows alike about one trunk: the calls it carries and its recent
/// starts, its out-of-service deadline and its health.
struct trunk_usage {
    call_usage calls;
    std::atomic<std::int64_t> out_of_service_until{0};  ///< steady clock, ns since its epoch
    std::atomic<bool> up{true};
};

/// Every trunk's usage by index (trunk indices are never reused), one per process: each event
/// loop's trunk_selection holds the same entries, so a limit, a 503's Retry-After and a health
/// verdict hold for the whole process.
///
/// @par Thread safety
/// `at` takes a lock: it is called when a selection is made or a trunk added, never per call.
class trunk_usage_table {
public:
    /// Trunk `index`'s usage, made on first use.
    std::shared_ptr<trunk_usage> at(std::size_t index);

private:
    std::mutex mutex_;
    std::vector<std::shared_ptr<trunk_usage>> trunks_;
};

/// The selection state of every configured trunk (by index): its policy, and its usage (calls
/// it carries, recent call starts for max_cps, out-of-service deadline, health) shared with the
/// other event loops' selections. Pure: the caller passes the time and reports what happened;
/// nothing here sends or schedules.
///
/// @par Thread safety
/// Owned by one core, on its event loop; the usage it points at is shared and atomic.
class trunk_selection {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    /// `shared`: the process's usage table (its own when none is given: one event loop).
    explicit trunk_selection(std::vector<trunk_selection_policy> policies,
                             std::shared_ptr<trunk_usage_table> shared = std::make_shared<trunk_usage_table>());

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

    /// Takes `trunk` for an attempt at `now` when it may take one (as `check` says), in one step
    /// with every other loop: a call slot until `on_attempt_end`, and a start that counts
    /// towards max_cps for one second. Nothing is taken unless the answer is `none`.
    skip_reason take(std::size_t trunk, time_point now, bool exempt_from_limits = false);
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

    std::size_t active(std::size_t trunk) const noexcept { return trunks_[trunk].usage->calls.active(); }
    bool up(std::size_t trunk) const noexcept { return trunks_[trunk].usage->up.load(std::memory_order_relaxed); }
    std::size_t size() const noexcept { return trunks_.size(); }

private:
    struct state {
        trunk_selection_policy policy;
        std::shared_ptr<trunk_usage> usage;
    };
    std::shared_ptr<trunk_usage_table> shared_;
    std::vector<state> trunks_;
};

}  // namespace b2b::routing
