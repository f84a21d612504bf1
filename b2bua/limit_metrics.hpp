// The Prometheus metrics of the limits and of overload admission.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace b2b::b2bua {

/// A bound that refused something (the `limit` label of b2bua_limit_hits_total).
enum class limit_kind : std::uint8_t {
    calls,           ///< calls.max_calls
    trunk,           ///< every trunk of the route over its max_calls/max_cps
    user_calls,      ///< a PBX account's max_calls
    user_cps,        ///< a PBX account's max_cps
    blocked_prefix,  ///< security.blocked_prefixes
    overload,        ///< overload.max_loop_delay: the event loop ran late
    transactions,    ///< overload.max_transactions
};
inline constexpr std::size_t limit_kind_count = static_cast<std::size_t>(limit_kind::transactions) + 1;
/// "calls", "trunk", "user_calls", "user_cps", "blocked_prefix", "overload", "transactions".
std::string_view to_string(limit_kind k) noexcept;

/// b2bua_limit_hits_total{limit} (every limit at zero from the start), b2bua_overload (1 while
/// new INVITEs are refused because the event loop runs late), b2bua_event_loop_delay_seconds
/// (how late the loop's periodic timer fired: the largest lateness of the last second).
///
/// @par Thread safety
/// Updates are atomic (prometheus-cpp).
class limit_metrics {
public:
    explicit limit_metrics(prometheus::Registry& registry);

    void hit(limit_kind k) { hits_[static_cast<std::size_t>(k)]->Increment(); }
    /// One worker's event loop entered (true) or left (false) overload. The process counts as
    /// overloaded, and b2bua_overload is 1, while any worker's loop is: a stall of the process
    /// reaches every loop, and each only notices at its own next tick, so admission goes by
    /// the process, not by whichever worker a new INVITE lands on.
    void worker_overload(bool entered) {
        const int now = overloaded_workers_.fetch_add(entered ? 1 : -1, std::memory_order_relaxed) + (entered ? 1 : -1);
        overload_->Set(now > 0 ? 1 : 0);
    }
    bool overloaded() const noexcept { return overloaded_workers_.load(std::memory_order_relaxed) > 0; }
    void set_loop_delay(std::chrono::steady_clock::duration d) {
        loop_delay_->Set(std::chrono::duration<double>(d).count());
    }

private:
    std::array<prometheus::Counter*, limit_kind_count> hits_{};
    prometheus::Gauge* overload_ = nullptr;
    std::atomic<int> overloaded_workers_{0};
    prometheus::Gauge* loop_delay_ = nullptr;
};

}  // namespace b2b::b2bua
