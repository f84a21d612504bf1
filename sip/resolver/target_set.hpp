// One peer's located targets over time: their TTL, the refresh schedule and the targets
// that recently failed (sans-I/O: the caller passes the time).
#pragma once

#include "sip/resolver/target.hpp"

#include <chrono>
#include <cstdint>
#include <vector>

namespace b2b::sip::resolver {

/// The targets of one peer (a trunk) as the latest resolution gave them, with when they must
/// be resolved again and which of them failed lately (RFC 3263 §4.3: a target that failed is
/// passed over for new requests for a while). Pure: nothing here sends or schedules; the
/// owner asks `refresh_at()` and reports resolutions and failures with the time.
///
/// @par Thread safety
/// None: owned by one event loop.
class target_set {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    struct policy {
        /// A target that failed is tried after the others for this long.
        std::chrono::seconds failed_for{30};
        /// Resolutions are refreshed no sooner than this after the last, whatever the TTL
        /// (a TTL of 0 must not make us query in a loop) ...
        std::chrono::seconds min_refresh{1};
        /// ... and no later than this (a week-long TTL must not freeze a provider's move).
        std::chrono::seconds max_refresh{3600};
        /// After a failed resolution: first retry, doubled per failure in a row, up to the max.
        std::chrono::seconds retry_first{1};
        std::chrono::seconds retry_max{60};
    };

    target_set() = default;
    explicit target_set(policy p) : policy_(p) {}
    /// Targets that never change (a numeric host): never refreshed.
    static target_set fixed(std::vector<target> targets);

    /// A resolution arrived at `now`: it replaces the targets, and the next refresh is due when
    /// its TTL runs out. An empty one counts as a failure (the old targets are kept). True when
    /// the targets differ from before.
    bool update(const resolution& r, time_point now);
    /// A resolution failed at `now`: the targets are kept (stale ones beat none), and the next
    /// try is due after a back-off that doubles per failure in a row.
    void on_failure(time_point now);

    /// When the next resolution is due; time_point::max() for fixed targets.
    time_point refresh_at() const noexcept { return refresh_at_; }
    bool is_fixed() const noexcept { return fixed_; }
    const std::vector<target>& targets() const noexcept { return targets_; }
    unsigned failures_in_a_row() const noexcept { return failures_; }

    /// A request to `t` failed at `now` (transport error, timeout, 503): `ordered` puts it
    /// after the others until `failed_for` has passed.
    void mark_failed(const target& t, time_point now);
    /// The targets in the order a new request tries them at `now`: those not failed lately in
    /// their resolved order, then the failed ones (soonest recovered first).
    std::vector<target> ordered(time_point now) const;

private:
    struct failure_mark {
        target what;
        time_point until;
    };
    policy policy_;
    std::vector<target> targets_;
    std::vector<failure_mark> failed_;
    time_point refresh_at_{};
    unsigned failures_ = 0;
    bool fixed_ = false;
};

}  // namespace b2b::sip::resolver
