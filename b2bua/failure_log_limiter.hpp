// Per-source rate limit of authentication-failure log lines: a few lines, then one summary per interval.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace b2b::b2bua {

/// Decides which authentication-failure log lines are written, so that an attack (a brute
/// force, a scan, a flood of forged answers) cannot fill the disk: per source address, the
/// first `lines_per_interval` failures of each `interval` are logged, the rest only counted,
/// and each interval that had lines held back ends in one summary line. Metrics and the
/// failure ring (auth_failure_log) still see every failure; only the log is limited.
///
/// Memory is bounded: at most `max_sources` addresses are tracked; failures from further
/// addresses share one "other sources" window with the same limit.
///
/// Sans-I/O: time is passed in: the wall clock the failures are recorded with (which follows the
/// injected clock). A source's window starts with its first failure; it ends when a failure
/// comes `interval` later (or the clock stepped back before its start), or when `expire` runs.
///
/// @par Thread safety
/// Every member takes the limiter's own lock: the workers of one process (sip.workers) share
/// one, so a source's lines stay within the bound whichever worker handles its failures. Only
/// failures come here, never a call that authenticates.
class failure_log_limiter {
public:
    using clock = std::chrono::system_clock;

    struct options {
        std::size_t lines_per_interval = 3;
        std::chrono::seconds interval{60};  ///< security.failure_log_interval
        std::size_t max_sources = 4096;
    };

    /// An interval of one source (or of the other sources, `source` empty) whose lines were
    /// held back in part.
    struct summary {
        std::string source;          ///< the address; empty for the shared "other sources" window
        std::uint64_t logged = 0;    ///< lines written in the interval
        std::uint64_t suppressed = 0;
        std::string last_reason;     ///< of the last failure held back
        std::chrono::seconds interval{0};
    };

    struct verdict {
        bool log = false;                 ///< write this failure's line
        std::optional<summary> previous;  ///< the source's interval that just ended, to write first
    };

    explicit failure_log_limiter(options o);

    /// A failure (`reason`, e.g. "wrong_password") from `source` at `now`.
    verdict on_failure(const boost::asio::ip::address& source, std::string_view reason, clock::time_point now);

    /// Ends every window older than the interval: their summaries (those that held lines back),
    /// and the sources are forgotten. Run it once an interval, so a source that went quiet still
    /// gets its summary line.
    std::vector<summary> expire(clock::time_point now);

    /// Addresses tracked now (without the shared window).
    std::size_t size() const {
        const std::lock_guard lock(mutex_);
        return sources_.size();
    }

private:
    struct window {
        clock::time_point start{};
        std::uint64_t logged = 0;
        std::uint64_t suppressed = 0;
        std::string last_reason;
        bool active = false;
    };

    bool admit(window& w, std::string_view reason, clock::time_point now, std::optional<summary>& ended,
               const std::string& source);
    std::optional<summary> close(window& w, const std::string& source) const;

    options options_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, window> sources_;
    window others_;
};

/// The summary line's text: "auth failures from 203.0.113.9: 1200 more in the last 60 s not logged
/// (3 logged; last reason=wrong_password)".
std::string to_string(const failure_log_limiter::summary& s);

}  // namespace b2b::b2bua
