// The deadline heap behind every timer_service: lazy cancellation, stable order for ties.
#include "sip/transaction/timer_queue.hpp"

#include <algorithm>
#include <utility>

namespace b2b::sip {

timer_queue::timer_id timer_queue::add(time_point due, std::function<void()> fn) {
    const timer_id id = next_id_++;
    callbacks_.emplace(id, std::move(fn));
    heap_.push_back(entry{due, id});
    std::push_heap(heap_.begin(), heap_.end(), later{});
    return id;
}

void timer_queue::cancel(timer_id id) noexcept {
    if (callbacks_.erase(id) == 0) {
        return;
    }
    // Lazy cancellation leaves the entry in the heap. Timers that are almost always cancelled
    // (Timer B, F, H once the response arrives) would otherwise pile up for 64*T1, so rebuild
    // the heap when dead entries clearly outnumber live ones. Amortised O(1) per cancel.
    if (heap_.size() > 256 && heap_.size() > 4 * callbacks_.size()) {
        std::erase_if(heap_, [this](const entry& e) { return !callbacks_.contains(e.id); });
        std::make_heap(heap_.begin(), heap_.end(), later{});
    }
}

void timer_queue::drop_cancelled_top() {
    while (!heap_.empty() && !callbacks_.contains(heap_.front().id)) {
        std::pop_heap(heap_.begin(), heap_.end(), later{});
        heap_.pop_back();
    }
}

std::optional<timer_queue::time_point> timer_queue::next_due() {
    drop_cancelled_top();
    if (heap_.empty()) {
        return std::nullopt;
    }
    return heap_.front().due;
}

std::size_t timer_queue::run_due(time_point now) {
    std::size_t fired = 0;
    for (;;) {
        drop_cancelled_top();
        if (heap_.empty() || heap_.front().due > now) {
            return fired;
        }
        const timer_id id = heap_.front().id;
        std::pop_heap(heap_.begin(), heap_.end(), later{});
        heap_.pop_back();
        auto node = callbacks_.extract(id);
        // The callback may add or cancel timers: it runs after the entry left both containers.
        ++fired;
        node.mapped()();
    }
}

}  // namespace b2b::sip
