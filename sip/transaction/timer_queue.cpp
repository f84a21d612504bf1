// The deadline heap behind every timer_service: lazy cancellation, stable order for ties.
#include "sip/transaction/timer_queue.hpp"

#include <algorithm>
#include <utility>

namespace b2b::sip {

namespace {

constexpr std::uint32_t index_of(timer_queue::timer_id id) noexcept { return static_cast<std::uint32_t>(id); }
constexpr std::uint32_t generation_of(timer_queue::timer_id id) noexcept { return static_cast<std::uint32_t>(id >> 32); }

}  // namespace

timer_queue::timer_id timer_queue::add(time_point due, std::function<void()> fn) {
    std::uint32_t index;
    if (!free_.empty()) {
        index = free_.back();
        free_.pop_back();
    } else {
        index = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    }
    slot& s = slots_[index];
    s.fn = std::move(fn);
    s.live = true;
    ++live_;
    const timer_id id = (static_cast<timer_id>(s.generation) << 32) | index;
    heap_.push_back(entry{due, next_order_++, id});
    std::push_heap(heap_.begin(), heap_.end(), later{});
    return id;
}

bool timer_queue::is_live(timer_id id) const noexcept {
    const auto index = index_of(id);
    return index < slots_.size() && slots_[index].live && slots_[index].generation == generation_of(id);
}

std::function<void()> timer_queue::release(timer_id id) noexcept {
    slot& s = slots_[index_of(id)];
    auto fn = std::move(s.fn);
    s.fn = nullptr;
    s.live = false;
    // A new generation: the id just released (and its heap entry) no longer names this slot.
    if (++s.generation == 0) s.generation = 1;
    free_.push_back(index_of(id));
    --live_;
    return fn;
}

void timer_queue::cancel(timer_id id) noexcept {
    if (!is_live(id)) return;
    release(id);  // the callback (and what it captured) goes now, not when its deadline comes
    // Lazy cancellation leaves the entry in the heap. Timers that are almost always cancelled
    // (Timer B, F, H once the response arrives) would otherwise pile up for 64*T1, so rebuild
    // the heap when dead entries clearly outnumber live ones. Amortised O(1) per cancel.
    if (heap_.size() > 256 && heap_.size() > 4 * live_) {
        std::erase_if(heap_, [this](const entry& e) { return !is_live(e.id); });
        std::make_heap(heap_.begin(), heap_.end(), later{});
    }
}

void timer_queue::drop_cancelled_top() {
    while (!heap_.empty() && !is_live(heap_.front().id)) {
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
        auto fn = release(id);
        // The callback may add or cancel timers: it runs after the entry left both containers.
        ++fired;
        fn();
    }
}

}  // namespace b2b::sip
