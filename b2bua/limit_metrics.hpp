// The Prometheus metrics of the limits and of overload admission.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
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
    void set_overload(bool on) { overload_->Set(on ? 1 : 0); }
    void set_loop_delay(std::chrono::steady_clock::duration d) {
        loop_delay_->Set(std::chrono::duration<double>(d).count());
    }

private:
    std::array<prometheus::Counter*, limit_kind_count> hits_{};
    prometheus::Gauge* overload_ = nullptr;
    prometheus::Gauge* loop_delay_ = nullptr;
};

}  // namespace b2b::b2bua
