// A min-heap of deadlines: the bookkeeping shared by the Asio and the manual timer services.
#pragma once

#include "sip/transaction/timer_service.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

namespace b2b::sip {

/// Pending timers ordered by deadline, then by scheduling order. Cancellation is lazy: the
/// entry stays in the heap and is skipped when it comes up, so `cancel` is O(1).
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

    std::size_t size() const noexcept { return callbacks_.size(); }

private:
    struct entry {
        time_point due;
        timer_id id;
    };
    struct later {
        bool operator()(const entry& a, const entry& b) const noexcept {
            return a.due != b.due ? a.due > b.due : a.id > b.id;
        }
    };
    void drop_cancelled_top();

    std::vector<entry> heap_;
    std::unordered_map<timer_id, std::function<void()>> callbacks_;
    timer_id next_id_ = 1;
};

}  // namespace b2b::sip
