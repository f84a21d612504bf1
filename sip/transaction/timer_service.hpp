// The injectable clock: schedule, cancel, now. Asio drives it in production, tests advance it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace b2b::sip {

/// Timers for one event loop. Every component that waits takes a `timer_service&`, so tests
/// run timer behaviour with a manual clock instead of sleeping (see tests/fakes).
///
/// @par Thread safety
/// None: use from the thread that runs the event loop. Callbacks run on that thread.
class timer_service {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using duration = std::chrono::milliseconds;
    using timer_id = std::uint64_t;  ///< never 0 for a scheduled timer

    virtual ~timer_service() = default;

    virtual time_point now() const noexcept = 0;

    /// Runs `fn` once, `after` from now. Timers due at the same instant fire in the order
    /// they were scheduled.
    virtual timer_id schedule(duration after, std::function<void()> fn) = 0;

    /// Stops a pending timer. Cancelling one that fired, was cancelled, or is 0 does nothing.
    virtual void cancel(timer_id id) noexcept = 0;
};

}  // namespace b2b::sip
