// Calls up and recent call starts, by compare and swap.
#include "routing/call_usage.hpp"

namespace b2b::routing {

namespace {

constexpr int count_bits = 24;
constexpr std::uint64_t count_mask = (std::uint64_t{1} << count_bits) - 1;

std::uint64_t pack(std::int64_t slot, std::uint64_t count) {
    return (static_cast<std::uint64_t>(slot) << count_bits) | (count & count_mask);
}
std::int64_t slot_of_word(std::uint64_t w) { return static_cast<std::int64_t>(w >> count_bits); }
std::uint64_t count_of_word(std::uint64_t w) { return w & count_mask; }

// The 10 ms slot a time falls in, counted from the clock's epoch (never negative: a time before
// the epoch is slot 0, which only tests use).
std::int64_t slot_number(call_usage::time_point t, std::int64_t slot_ms) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    return ms < 0 ? 0 : ms / slot_ms;
}

// Whether slot `s` is within the second of slot `now` (or a little after it, taken by another
// loop whose clock read came later: counting it is on the safe side).
bool in_window(std::int64_t s, std::int64_t now, std::size_t slots) {
    const std::int64_t age = now - s;
    return age < static_cast<std::int64_t>(slots) && age > -static_cast<std::int64_t>(slots);
}

}  // namespace

std::size_t call_usage::starts(time_point now) const noexcept {
    const std::int64_t s = slot_number(now, slot_ms);
    std::size_t n = 0;
    for (const auto& w : window_) {
        const std::uint64_t v = w.load(std::memory_order_acquire);
        if (count_of_word(v) != 0 && in_window(slot_of_word(v), s, slots)) n += count_of_word(v);
    }
    return n;
}

call_usage::verdict call_usage::check(time_point now, std::size_t max_calls, std::uint32_t max_cps) const noexcept {
    if (max_calls != 0 && active() >= max_calls) return verdict::max_calls;
    if (max_cps != 0 && starts(now) >= max_cps) return verdict::max_cps;
    return verdict::pass;
}

bool call_usage::take_call(std::size_t max_calls, bool exempt) noexcept {
    if (exempt || max_calls == 0) {
        active_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    std::size_t now = active_.load(std::memory_order_relaxed);
    do {
        if (now >= max_calls) return false;
    } while (!active_.compare_exchange_weak(now, now + 1, std::memory_order_relaxed));
    return true;
}

bool call_usage::take_start(time_point now, std::uint32_t max_cps, bool exempt) noexcept {
    if (max_cps == 0) return true;
    const std::int64_t s = slot_number(now, slot_ms);
    std::atomic<std::uint64_t>& mine = window_[static_cast<std::size_t>(s) % slots];
    std::uint64_t current = mine.load(std::memory_order_acquire);
    for (;;) {
        // This slot's own count is read from `current`, so two loops starting calls in the same
        // 10 ms race on one word: the loser's swap fails and it counts again with the winner's.
        const bool same = count_of_word(current) != 0 && slot_of_word(current) >= s;
        std::uint64_t others = 0;
        if (!exempt) {
            for (const auto& w : window_) {
                if (&w == &mine) continue;
                const std::uint64_t v = w.load(std::memory_order_acquire);
                if (count_of_word(v) != 0 && in_window(slot_of_word(v), s, slots)) others += count_of_word(v);
            }
            if (others + (same ? count_of_word(current) : 0) >= max_cps) return false;
        }
        const std::uint64_t next =
            same ? pack(slot_of_word(current), count_of_word(current) + 1) : pack(s, 1);  // an older slot starts over
        if (mine.compare_exchange_weak(current, next, std::memory_order_acq_rel, std::memory_order_acquire)) return true;
    }
}

call_usage::verdict call_usage::try_start(time_point now, std::size_t max_calls, std::uint32_t max_cps,
                                          bool exempt) noexcept {
    if (!take_call(max_calls, exempt)) return verdict::max_calls;
    if (!take_start(now, max_cps, exempt)) {
        end();
        return verdict::max_cps;
    }
    return verdict::pass;
}

void call_usage::end() noexcept {
    std::size_t now = active_.load(std::memory_order_relaxed);
    while (now != 0 && !active_.compare_exchange_weak(now, now - 1, std::memory_order_relaxed)) {
    }
}

}  // namespace b2b::routing
