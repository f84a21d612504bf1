// The registrations' Prometheus metrics: ours with the trunks, and the PBXs' with us.
#pragma once

#include "registration/client.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace b2b::b2bua {

/// b2bua_upstream_registration_state{trunk,state} (1 for the current state, 0 for the others),
/// b2bua_upstream_registration_attempts_total{trunk,outcome},
/// b2bua_upstream_registration_expires_seconds{trunk} (the interval the provider granted; 0 when
/// not registered), b2bua_upstream_registration_next_attempt_seconds{trunk} (until the next
/// REGISTER, refresh or retry; 0 when none is planned), b2bua_downstream_registrations (the
/// PBXs' current bindings). Each registering trunk's series exist at zero from `add_trunk` on
/// (before any traffic), every state and outcome included.
///
/// @par Thread safety
/// Updates are atomic (prometheus-cpp); `add_trunk` is called before the first scrape.
class registration_metrics {
public:
    explicit registration_metrics(prometheus::Registry& registry);

    /// Creates the series of a registering trunk; returns its slot for the other calls.
    std::size_t add_trunk(const std::string& name);
    void attempt(std::size_t slot, registration::attempt_outcome outcome);
    /// The state, the granted interval, and the time left until the next attempt at `now`.
    void status(std::size_t slot, const registration::registration_status& s, std::chrono::steady_clock::time_point now);
    void set_bindings(std::size_t n) { bindings_->Set(static_cast<double>(n)); }

private:
    struct trunk_series {
        std::array<prometheus::Gauge*, registration::all_states.size()> states{};
        std::array<prometheus::Counter*, registration::all_outcomes.size()> outcomes{};
        prometheus::Gauge* expires = nullptr;
        prometheus::Gauge* next_attempt = nullptr;
    };

    prometheus::Family<prometheus::Gauge>& state_;
    prometheus::Family<prometheus::Counter>& attempts_;
    prometheus::Family<prometheus::Gauge>& expires_;
    prometheus::Family<prometheus::Gauge>& next_attempt_;
    prometheus::Gauge* bindings_;
    std::vector<trunk_series> trunks_;
};

}  // namespace b2b::b2bua
