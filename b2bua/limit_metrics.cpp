// The Prometheus metrics of the limits and of overload admission.
#include "b2bua/limit_metrics.hpp"

#include <string>

namespace b2b::b2bua {

std::string_view to_string(limit_kind k) noexcept {
    switch (k) {
        case limit_kind::calls: return "calls";
        case limit_kind::trunk: return "trunk";
        case limit_kind::user_calls: return "user_calls";
        case limit_kind::user_cps: return "user_cps";
        case limit_kind::blocked_prefix: return "blocked_prefix";
        case limit_kind::overload: return "overload";
        case limit_kind::transactions: return "transactions";
    }
    return "calls";
}

limit_metrics::limit_metrics(prometheus::Registry& registry) {
    auto& hits = prometheus::BuildCounter()
                     .Name("b2bua_limit_hits_total")
                     .Help("Requests refused by a bound, by limit: calls (calls.max_calls), trunk (every trunk of "
                           "the route at its max_calls/max_cps), user_calls and user_cps (a PBX account's "
                           "max_calls/max_cps), blocked_prefix (security.blocked_prefixes, 403), overload (the "
                           "event loop later than overload.max_loop_delay_ms), transactions "
                           "(overload.max_transactions).")
                     .Register(registry);
    for (std::size_t k = 0; k < limit_kind_count; ++k) {
        hits_[k] = &hits.Add({{"limit", std::string(to_string(static_cast<limit_kind>(k)))}});
    }
    overload_ = &prometheus::BuildGauge()
                     .Name("b2bua_overload")
                     .Help("1 while new INVITEs get 503 because the SIP event loop runs later than "
                           "overload.max_loop_delay_ms; in-dialog requests keep flowing.")
                     .Register(registry)
                     .Add({});
    loop_delay_ = &prometheus::BuildGauge()
                       .Name("b2bua_event_loop_delay_seconds")
                       .Help("How late the SIP event loop's periodic timer fired: the largest lateness of the last "
                             "second.")
                       .Register(registry)
                       .Add({});
}

}  // namespace b2b::b2bua
