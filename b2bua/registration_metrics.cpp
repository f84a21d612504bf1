// The registrations' Prometheus metrics.
#include "b2bua/registration_metrics.hpp"

#include <algorithm>

namespace b2b::b2bua {

registration_metrics::registration_metrics(prometheus::Registry& registry)
    : state_(prometheus::BuildGauge()
                 .Name("b2bua_upstream_registration_state")
                 .Help("Our registration with each trunk that registers: 1 for its current state (unregistered, "
                       "registering, registered, failing), 0 for the others.")
                 .Register(registry)),
      attempts_(prometheus::BuildCounter()
                    .Name("b2bua_upstream_registration_attempts_total")
                    .Help("REGISTER attempts to each trunk by outcome: registered, auth_failed, forbidden, timeout, "
                          "transport_error, interval_too_brief, error.")
                    .Register(registry)),
      expires_(prometheus::BuildGauge()
                   .Name("b2bua_upstream_registration_expires_seconds")
                   .Help("The registration interval the trunk's provider granted; 0 when not registered.")
                   .Register(registry)),
      next_attempt_(prometheus::BuildGauge()
                        .Name("b2bua_upstream_registration_next_attempt_seconds")
                        .Help("Seconds until the next REGISTER to the trunk (refresh or retry); 0 when none is planned.")
                        .Register(registry)),
      bindings_(&prometheus::BuildGauge()
                     .Name("b2bua_downstream_registrations")
                     .Help("Contacts the PBXs have registered with us (current bindings).")
                     .Register(registry)
                     .Add({})) {}

std::size_t registration_metrics::add_trunk(const std::string& name) {
    trunk_series s;
    for (std::size_t i = 0; i < registration::all_states.size(); ++i) {
        s.states[i] = &state_.Add({{"trunk", name}, {"state", std::string(registration::to_string(registration::all_states[i]))}});
    }
    for (std::size_t i = 0; i < registration::all_outcomes.size(); ++i) {
        s.outcomes[i] =
            &attempts_.Add({{"trunk", name}, {"outcome", std::string(registration::to_string(registration::all_outcomes[i]))}});
    }
    s.expires = &expires_.Add({{"trunk", name}});
    s.next_attempt = &next_attempt_.Add({{"trunk", name}});
    s.states[static_cast<std::size_t>(registration::registration_state::unregistered)]->Set(1);
    trunks_.push_back(s);
    return trunks_.size() - 1;
}

void registration_metrics::attempt(std::size_t slot, registration::attempt_outcome outcome) {
    if (slot < trunks_.size()) trunks_[slot].outcomes[static_cast<std::size_t>(outcome)]->Increment();
}

void registration_metrics::status(std::size_t slot, const registration::registration_status& s,
                                  std::chrono::steady_clock::time_point now) {
    if (slot >= trunks_.size()) return;
    auto& t = trunks_[slot];
    for (std::size_t i = 0; i < t.states.size(); ++i) {
        t.states[i]->Set(static_cast<std::size_t>(s.state) == i ? 1 : 0);
    }
    const bool registered = s.state == registration::registration_state::registered;
    t.expires->Set(registered ? static_cast<double>(s.granted.count()) : 0);
    const auto left = s.next_attempt == std::chrono::steady_clock::time_point{}
                          ? 0.0
                          : std::max(0.0, std::chrono::duration<double>(s.next_attempt - now).count());
    t.next_attempt->Set(left);
}

}  // namespace b2b::b2bua
