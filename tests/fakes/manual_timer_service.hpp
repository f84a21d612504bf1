// Test fake: a timer_service whose clock moves only when the test says so.
#pragma once

#include "sip/transaction/timer_queue.hpp"
#include "sip/transaction/timer_service.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <utility>

namespace b2b::test {

/// A manual clock over sip::timer_queue (after Seastar's manual_clock and Envoy's simulated
/// time). Nothing fires until the test calls `advance`, which moves `now()` forward and runs
/// every timer due on the way, in deadline order (ties in scheduling order), with `now()` set
/// to each timer's deadline while its callback runs. Callbacks may schedule and cancel
/// timers; new ones due inside the window fire in the same call.
///
/// @par Thread safety
/// None, like every timer_service.
class manual_timer_service final : public sip::timer_service {
public:
    /// The clock starts at an arbitrary fixed instant, far from the epoch.
    manual_timer_service() = default;

    // sip::timer_service
    time_point now() const noexcept override { return now_; }
    timer_id schedule(duration after, std::function<void()> fn) override {
        return queue_.add(now_ + std::max(after, duration::zero()), std::move(fn));
    }
    void cancel(timer_id id) noexcept override { queue_.cancel(id); }

    /// Moves the clock forward by `d` (zero runs the timers already due). Returns how many
    /// timers fired.
    std::size_t advance(duration d) { return advance_to(now_ + std::max(d, duration::zero())); }

    /// Moves the clock to `t` (never backwards), firing what falls due on the way.
    std::size_t advance_to(time_point t) {
        std::size_t fired = 0;
        for (auto due = queue_.next_due(); due && *due <= t; due = queue_.next_due()) {
            now_ = std::max(now_, *due);
            fired += queue_.run_due(now_);
        }
        now_ = std::max(now_, t);
        return fired;
    }

    /// Runs timers until none is left, however far that takes the clock. Stops after
    /// `max_fired` callbacks so that a timer that keeps re-arming cannot hang a test.
    std::size_t run_all(std::size_t max_fired = 100000) {
        std::size_t fired = 0;
        while (fired < max_fired) {
            const auto due = queue_.next_due();
            if (!due) {
                break;
            }
            now_ = std::max(now_, *due);
            fired += queue_.run_due(now_);
        }
        return fired;
    }

    /// Timers scheduled and neither fired nor cancelled.
    std::size_t pending() const noexcept { return queue_.size(); }
    std::optional<time_point> next_due() { return queue_.next_due(); }

    /// How far the clock has moved since construction.
    duration elapsed() const noexcept {
        return std::chrono::duration_cast<duration>(now_ - start_);
    }

private:
    static constexpr time_point origin() noexcept { return time_point{} + std::chrono::hours{24}; }

    sip::timer_queue queue_;
    time_point start_ = origin();
    time_point now_ = origin();
};

}  // namespace b2b::test
