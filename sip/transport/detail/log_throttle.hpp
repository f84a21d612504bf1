// One log line per interval for an event that an attacker can repeat thousands of times a second.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

namespace b2b::sip::detail {

/// Says whether an occurrence of a repeated event is logged, sans-I/O (the caller passes the
/// time). The first occurrence is logged at once; the next are counted and the first one after
/// `interval` is logged with how many went unlogged since the last line. A flood of 3,000 refused
/// connections costs a handful of lines, not 3,000, and the log still says how many there were.
class log_throttle {
public:
    using clock = std::chrono::steady_clock;

    explicit log_throttle(clock::duration interval) : interval_(interval) {}

    /// Empty: do not log. Otherwise log, mentioning the returned count of unlogged occurrences.
    std::optional<std::size_t> admit(clock::time_point now) {
        if (logged_once_ && now - last_ < interval_) {
            ++suppressed_;
            return std::nullopt;
        }
        logged_once_ = true;
        last_ = now;
        const std::size_t unlogged = suppressed_;
        suppressed_ = 0;
        return unlogged;
    }

private:
    clock::duration interval_;
    clock::time_point last_{};
    std::size_t suppressed_ = 0;
    bool logged_once_ = false;
};

}  // namespace b2b::sip::detail
