// The watchdog's keep-alives, sent only while both loops answer.
#include "b2bua/service_watchdog.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace b2b::b2bua {

service_watchdog::service_watchdog(sip::timer_service& timers, std::chrono::microseconds limit,
                                   std::function<void()> ping, probe other_loop)
    : timers_(timers),
      period_(std::max(sip::timer_service::duration(1),
                       std::chrono::duration_cast<sip::timer_service::duration>(limit / 3))),
      ping_(std::move(ping)),
      other_loop_(std::move(other_loop)) {}

service_watchdog::~service_watchdog() { stop(); }

void service_watchdog::start() {
    if (timer_ != 0) return;
    tick();
}

void service_watchdog::stop() noexcept {
    timers_.cancel(timer_);
    timer_ = 0;
}

void service_watchdog::tick() {
    if (answered_->load() == asked_) {
        ping_();
        ++pings_;
    } else {
        // Another loop has not run the last probe in a whole period. Say so: if it stays
        // stuck, systemd's kill follows, and this line is the log's explanation of it.
        ++skipped_;
        if (auto log = spdlog::get("b2bua")) {
            log->warn("watchdog: an event loop (HTTP/admin, or a SIP worker's) has not answered for {} ms; "
                      "keep-alive withheld",
                      period_.count() * static_cast<long long>(asked_ - answered_->load()));
        }
    }
    ++asked_;
    other_loop_([answered = answered_, n = asked_] { answered->store(n); });
    timer_ = timers_.schedule(period_, [this] { tick(); });
}

}  // namespace b2b::b2bua
