// Overload admission: how late the SIP event loop runs, and whether new INVITEs are refused.
#pragma once

#include "b2bua/b2bua_metrics.hpp"
#include "b2bua/ingress.hpp"
#include "b2bua/thread_times.hpp"
#include "sip/transaction/timer_service.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace spdlog {
class logger;
}

namespace b2b::b2bua {

/// Whether the loop is overloaded, from the lateness of its periodic timer. Pure: the caller
/// passes each lateness and the time. Overload begins with one lateness above `max_delay`, and
/// ends once the lateness has stayed at or below half of it for `calm` (hysteresis, so that
/// admission does not flap at every tick).
class overload_detector {
public:
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;

    enum class transition : std::uint8_t { none, entered, left };

    overload_detector(duration max_delay, duration calm) : max_delay_(max_delay), calm_(calm) {}

    transition observe(duration lateness, time_point now);
    bool overloaded() const noexcept { return state_ == state::overloaded; }
    void set_max_delay(duration d) noexcept { max_delay_ = d; }

private:
    enum class state : std::uint8_t { normal, overloaded };
    state state_ = state::normal;
    duration max_delay_;
    duration calm_;
    time_point calm_since_{};  ///< overloaded: since when the lateness is low (or {} while high)
};

/// Measures the event loop: a timer every `period` whose lateness (how much later than due it
/// fired) feeds the detector, b2bua_event_loop_delay_seconds (largest of each second) and the
/// b2bua_overload gauge; entering and leaving overload are logged. The line that enters says
/// where the loop's thread spent the late interval (running, waiting for a CPU, or off), so a
/// stall of the machine is told from work of our own.
///
/// @par Thread safety
/// None: runs on the loop it measures.
class overload_monitor {
public:
    using duration = overload_detector::duration;

    overload_monitor(sip::timer_service& timers, duration max_delay, limit_metrics& metrics,
                     std::shared_ptr<spdlog::logger> log);
    ~overload_monitor();
    overload_monitor(const overload_monitor&) = delete;
    overload_monitor& operator=(const overload_monitor&) = delete;

    /// Starts the periodic timer (the process does; unit tests feed `observe` instead).
    void start();
    /// One measurement: the loop ran `lateness` late; `why`, when known, where the loop's
    /// thread spent the interval since the previous measurement.
    void observe(duration lateness, const std::optional<stall_account>& why = std::nullopt);
    /// This worker's loop runs late.
    bool overloaded() const noexcept { return detector_.overloaded(); }
    /// Any worker's loop runs late (limit_metrics::worker_overload): what admission goes by.
    bool process_overloaded() const noexcept { return metrics_.overloaded(); }
    /// INVITEs refused while overloaded (for the log line when it ends).
    void count_refusal() noexcept { ++refused_; }

    static constexpr std::chrono::milliseconds period{20};
    static constexpr std::chrono::seconds calm{1};

private:
    void tick();

    sip::timer_service& timers_;
    overload_detector detector_;
    duration max_delay_;
    limit_metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
    sip::timer_service::timer_id timer_ = 0;
    sip::timer_service::time_point due_{};
    // Opened on the first tick, on the loop's own thread (the monitor is made elsewhere).
    std::optional<thread_clock> clock_;
    std::optional<thread_times> last_times_;
    sip::timer_service::time_point last_tick_{};
    sip::timer_service::time_point window_start_{};
    duration window_max_{};
    sip::timer_service::time_point entered_at_{};
    std::uint64_t refused_ = 0;
};

/// Overload admission: while the loop runs late, a new INVITE gets 503 with Retry-After
/// (overload.retry_after_s, RFC 3261 §21.5.4) before authentication costs anything; emergency
/// numbers pass. Only new INVITEs pass through here: in-dialog requests (BYE above all) never do.
class overload_stage final : public ingress_stage {
public:
    overload_stage(overload_monitor& monitor, const std::chrono::seconds& retry_after, b2bua_metrics& metrics)
        : monitor_(monitor), retry_after_(retry_after), metrics_(metrics) {}
    std::string_view name() const noexcept override { return "overload"; }
    stage_result run(ingress_request& r, ingress_responder& responder) override;

private:
    overload_monitor& monitor_;
    const std::chrono::seconds& retry_after_;
    b2bua_metrics& metrics_;
};

}  // namespace b2b::b2bua
