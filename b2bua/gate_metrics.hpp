// The Prometheus metrics of the source gate: bans and dropped requests.
#pragma once

#include "security/source_screen.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <cstddef>
#include <cstdint>

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
    /// Entries the full ban list (security.ban.max_entries) or rate table
    /// (security.rate_limit_sources) forgot to make room: b2bua_security_evictions_total{table}.
    void evicted_from_ban_list(std::uint64_t n) { ban_list_evictions_->Increment(static_cast<double>(n)); }
    void evicted_from_rate_table(std::uint64_t n) { rate_table_evictions_->Increment(static_cast<double>(n)); }

private:
    prometheus::Gauge* banned_ = nullptr;
    prometheus::Counter* bans_ = nullptr;
    std::array<prometheus::Counter*, std::size(security::drop_reasons) + 1> dropped_{};
    prometheus::Counter* ban_list_evictions_ = nullptr;
    prometheus::Counter* rate_table_evictions_ = nullptr;
};

}  // namespace b2b::b2bua
