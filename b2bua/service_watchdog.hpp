// Keeps systemd's watchdog fed while both event loops turn: a loop stuck in a handler (a
// deadlock, an endless loop, a blocking call) stops the keep-alives and systemd restarts us.
#pragma once

#include "sip/transaction/timer_service.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace b2b::b2bua {

/// Runs on the first SIP loop (its timers). Every third of the watchdog's limit it sends a probe
/// to the other loops (the HTTP/admin one, the other SIP workers': `probe` answers once all ran
/// it) and pings systemd only if the previous probe came back: this loop's own timer firing
/// proves that it turns, the answered probe the others. A
/// third of the limit lets one late probe (a slow admin request) pass without a restart; two
/// in a row do not.
///
/// @par Thread safety
/// Construct, start and stop on the SIP loop; the probe's answer may come from any thread.
class service_watchdog {
public:
    /// Runs `answer` on the other loop (boost::asio::post in production).
    using probe = std::function<void(std::function<void()> answer)>;

    service_watchdog(sip::timer_service& timers, std::chrono::microseconds limit, std::function<void()> ping,
                     probe other_loop);
    ~service_watchdog();
    service_watchdog(const service_watchdog&) = delete;
    service_watchdog& operator=(const service_watchdog&) = delete;

    /// Pings at once (the loops are turning: we are being started from one) and then on schedule.
    void start();
    void stop() noexcept;

    /// Keep-alives sent and skipped so far (for tests and the log).
    std::uint64_t pings() const noexcept { return pings_; }
    std::uint64_t skipped() const noexcept { return skipped_; }

private:
    void tick();

    sip::timer_service& timers_;
    sip::timer_service::duration period_;
    std::function<void()> ping_;
    probe other_loop_;
    sip::timer_service::timer_id timer_ = 0;
    std::uint64_t asked_ = 0;
    /// The probe's answer writes it from the other loop; shared so an answer arriving after
    /// we are gone writes into memory that still exists.
    std::shared_ptr<std::atomic<std::uint64_t>> answered_ = std::make_shared<std::atomic<std::uint64_t>>(0);
    std::uint64_t pings_ = 0;
    std::uint64_t skipped_ = 0;
};

}  // namespace b2b::b2bua
