// A min-heap of deadlines: the bookkeeping shared by the Asio and the manual timer services.
#pragma once

#include "sip/transaction/timer_service.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <cstdint>
#include <vector>

namespace b2b::sip {

/// Pending timers ordered by deadline, then by scheduling order. Cancellation is lazy: the
/// entry stays in the heap and is skipped when it comes up, so `cancel` is O(1). Callbacks
/// live in a slot vector reused through a free list: no hashing and no node allocation per
/// timer (every call schedules and cancels a dozen: transaction, ringing, session timers). A
/// timer id is the slot's generation and index, so a stale id never cancels a later timer.
class timer_queue {
public:
    using time_point = timer_service::time_point;
    using timer_id = timer_service::timer_id;

    timer_id add(time_point due, std::function<void()> fn);
    void cancel(timer_id id) noexcept;

    /// Deadline of the earliest live timer.
    std::optional<time_point> next_due();

    /// Fires, in order, every timer due at or before `now`, including ones that callbacks
    /// schedule for a time <= now. Returns how many fired.
    std::size_t run_due(time_point now);

    std::size_t size() const noexcept { return live_; }

private:
    struct entry {
        time_point due;
        std::uint64_t order;  // scheduling order: ties fire first come, first served
        timer_id id;
    };
    struct later {
        bool operator()(const entry& a, const entry& b) const noexcept {
            return a.due != b.due ? a.due > b.due : a.order > b.order;
        }
    };
    struct slot {
        std::function<void()> fn;
        std::uint32_t generation = 1;  // never 0, so no id is 0
        bool live = false;
    };
    bool is_live(timer_id id) const noexcept;
    /// Frees the slot of `id` (live) and hands back its callback.
    std::function<void()> release(timer_id id) noexcept;
    void drop_cancelled_top();

    std::vector<entry> heap_;
    std::vector<slot> slots_;
    std::vector<std::uint32_t> free_;
    std::size_t live_ = 0;
    std::uint64_t next_order_ = 0;
};

}  // namespace b2b::sip
