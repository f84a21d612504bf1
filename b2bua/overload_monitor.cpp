// Overload admission: how late the SIP event loop runs, and whether new INVITEs are refused.
#include "b2bua/overload_monitor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

namespace b2b::b2bua {

overload_detector::transition overload_detector::observe(duration lateness, time_point now) {
    switch (state_) {
        case state::normal:
            if (lateness <= max_delay_) return transition::none;
            state_ = state::overloaded;
            calm_since_ = {};
            return transition::entered;
        case state::overloaded:
            if (lateness > max_delay_ / 2) {
                calm_since_ = {};
                return transition::none;
            }
            if (calm_since_ == time_point{}) calm_since_ = now;
            if (now - calm_since_ < calm_) return transition::none;
            state_ = state::normal;
            return transition::left;
    }
    return transition::none;
}

overload_monitor::overload_monitor(sip::timer_service& timers, duration max_delay, limit_metrics& metrics,
                                   std::shared_ptr<spdlog::logger> log)
    : timers_(timers), detector_(max_delay, calm), max_delay_(max_delay), metrics_(metrics), log_(std::move(log)) {
    metrics_.set_loop_delay(duration::zero());
}

overload_monitor::~overload_monitor() {
    timers_.cancel(timer_);
    if (detector_.overloaded()) metrics_.worker_overload(false);
}

void overload_monitor::start() {
    if (timer_ != 0) return;
    window_start_ = timers_.now();
    due_ = timers_.now() + period;
    timer_ = timers_.schedule(period, [this] { tick(); });
}

void overload_monitor::tick() {
    const auto now = timers_.now();
    if (!clock_) clock_.emplace();
    const auto times = clock_->read();
    std::optional<stall_account> why;
    if (times && last_times_) why = account_between(*last_times_, *times, now - last_tick_);
    last_times_ = times;
    last_tick_ = now;
    observe(now > due_ ? now - due_ : duration::zero(), why);
    // The next one is due a period from now, not from `due_`: a late loop is not asked to catch up.
    due_ = now + period;
    timer_ = timers_.schedule(period, [this] { tick(); });
}

void overload_monitor::observe(duration lateness, const std::optional<stall_account>& why) {
    const auto now = timers_.now();
    window_max_ = std::max(window_max_, lateness);
    if (now - window_start_ >= std::chrono::seconds(1)) {
        metrics_.set_loop_delay(window_max_);
        window_max_ = duration::zero();
        window_start_ = now;
    }
    const auto ms = [](duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    switch (detector_.observe(lateness, now)) {
        case overload_detector::transition::none: break;
        case overload_detector::transition::entered:
            // The delay just measured is worth a scrape now, not at the end of the second.
            metrics_.set_loop_delay(lateness);
            metrics_.worker_overload(true);
            entered_at_ = now;
            refused_ = 0;
            log_->warn("overload: the SIP event loop runs {} ms late (overload.max_loop_delay_ms {}): new INVITEs get "
                       "503 until it keeps up{}",
                       ms(lateness), ms(max_delay_),
                       why ? "; in its last " + std::to_string(ms(why->wall)) + " ms its thread " + describe(*why) : "");
            break;
        case overload_detector::transition::left:
            metrics_.worker_overload(false);
            log_->warn("overload over after {} ms: {} new INVITEs refused", ms(now - entered_at_), refused_);
            break;
    }
}

stage_result overload_stage::run(ingress_request& r, ingress_responder& responder) {
    if (!monitor_.process_overloaded() || r.emergency) return stage_result::proceed;
    monitor_.count_refusal();
    metrics_.call_setup(r.direction, r.source_trunk.value_or(b2bua_metrics::no_trunk), call_result::overload);
    metrics_.limits().hit(limit_kind::overload);
    responder.refuse(r, 503, "Service Unavailable", {{"Retry-After", std::to_string(retry_after_.count())}});
    return stage_result::stop;
}

}  // namespace b2b::b2bua
