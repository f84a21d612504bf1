// The Prometheus metrics of the source gate: bans and dropped requests.
#pragma once

#include "security/source_screen.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <cstddef>

namespace b2b::b2bua {

/// b2bua_banned_sources (gauge: sources banned now), b2bua_bans_total (bans imposed, by
/// failures or by an operator) and b2bua_requests_dropped_total{reason} (messages dropped
/// before parsing: banned, rate_limit, scanner). Every reason exists at zero from construction.
///
/// @par Thread safety
/// Updates are atomic (prometheus-cpp).
class gate_metrics {
public:
    explicit gate_metrics(prometheus::Registry& registry);

    void banned_sources(std::size_t n) { banned_->Set(static_cast<double>(n)); }
    void ban_imposed() { bans_->Increment(); }
    void dropped(security::verdict why);

private:
    prometheus::Gauge* banned_ = nullptr;
    prometheus::Counter* bans_ = nullptr;
    std::array<prometheus::Counter*, std::size(security::drop_reasons) + 1> dropped_{};
};

}  // namespace b2b::b2bua
