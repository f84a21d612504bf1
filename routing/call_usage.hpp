// The calls one trunk or one account carries, and the calls it started within the last second,
// shared by every event loop.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace b2b::routing {

/// The calls up and the recent call starts of one trunk or one PBX account, counted for every
/// event loop at once (sip.workers). Each field is one atomic word changed by compare and swap,
/// so N loops together hold it to its max_calls and max_cps and none ever waits for another.
///
/// The last second is 100 slots of 10 ms: a start leaves the window between 990 and 1000 ms
/// after it was made. A slot names its 10 ms by number, so a slot left from an earlier second
/// counts nothing and is taken over by the next start that lands on it.
///
/// @par Thread safety
/// Every member may be called from any thread.
class call_usage {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    enum class verdict : std::uint8_t { pass, max_calls, max_cps };

    /// Takes a call slot (until `end`) and a start at `now`, if the limits allow both (0: no
    /// limit; starts are counted only under a max_cps). `exempt` (an emergency call) takes them
    /// whatever the limits, and still counts. Nothing is taken when the answer is not `pass`.
    verdict try_start(time_point now, std::size_t max_calls, std::uint32_t max_cps, bool exempt = false) noexcept;
    /// What `try_start` would answer at `now`, taking nothing.
    verdict check(time_point now, std::size_t max_calls, std::uint32_t max_cps) const noexcept;
    /// A call taken by `try_start` ended; never below zero.
    void end() noexcept;

    std::size_t active() const noexcept { return active_.load(std::memory_order_relaxed); }
    /// Starts within the second that ends at `now`.
    std::size_t starts(time_point now) const noexcept;

private:
    static constexpr std::size_t slots = 100;
    static constexpr std::int64_t slot_ms = 10;

    bool take_call(std::size_t max_calls, bool exempt) noexcept;
    bool take_start(time_point now, std::uint32_t max_cps, bool exempt) noexcept;

    std::atomic<std::size_t> active_{0};
    std::array<std::atomic<std::uint64_t>, slots> window_{};  // (slot number << 24) | starts in it
};

}  // namespace b2b::routing

namespace b2b::routing {

/// One call held on a call_usage by a successful `try_start`: it ends (`call_usage::end`) when
/// the hold is released or destroyed, so a call refused after it was counted, or a call ended
/// on any path, gives its slot back exactly once.
class call_usage_hold {
public:
    call_usage_hold() = default;
    explicit call_usage_hold(std::shared_ptr<call_usage> usage) noexcept : usage_(std::move(usage)) {}
    call_usage_hold(call_usage_hold&& o) noexcept = default;
    call_usage_hold& operator=(call_usage_hold&& o) noexcept {
        if (this != &o) {
            release();
            usage_ = std::move(o.usage_);
        }
        return *this;
    }
    call_usage_hold(const call_usage_hold&) = delete;
    call_usage_hold& operator=(const call_usage_hold&) = delete;
    ~call_usage_hold() { release(); }

    void release() noexcept {
        if (usage_) usage_->end();
        usage_.reset();
    }
    explicit operator bool() const noexcept { return usage_ != nullptr; }

private:
    std::shared_ptr<call_usage> usage_;
};

}  // namespace b2b::routing
