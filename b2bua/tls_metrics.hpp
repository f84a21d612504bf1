// The TLS Prometheus metrics: failed handshakes and our certificate's expiry.
#pragma once

#include "sip/transport/tls.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace b2b::b2bua {

/// b2bua_tls_handshake_failures_total{direction,reason} (inbound: a peer connecting to our
/// tls:// listener; outbound: we connecting to a provider, `verify_failed` when its
/// certificate did not verify) and b2bua_tls_certificate_expiry_timestamp_seconds{listener}
/// (the notAfter of the certificate each tls:// listener presents, as Unix time; set again on
/// each reload). Every direction and reason exists at zero from construction, and each
/// listener's gauge from `add_listener`.
///
/// @par Thread safety
/// Updates are atomic (prometheus-cpp); `add_listener` is called before the first scrape.
class tls_metrics final : public sip::tls_observer {
public:
    explicit tls_metrics(prometheus::Registry& registry);

    /// Creates the expiry gauge of a listener, labelled as sip.listen spells it ("tls://127.0.0.1:5071").
    void add_listener(const std::string& label);
    /// Our certificate's notAfter, on every listener (one certificate serves them all).
    void set_certificate_expiry(std::optional<std::chrono::system_clock::time_point> not_after);

    // sip::tls_observer
    void on_handshake_failure(sip::tls_direction d, sip::tls_failure why) override;

private:
    static constexpr std::size_t direction_count = 2;
    static constexpr std::size_t failure_count = std::size(sip::all_tls_failures);

    prometheus::Family<prometheus::Counter>& failures_;
    prometheus::Family<prometheus::Gauge>& expiry_;
    std::array<std::array<prometheus::Counter*, failure_count>, direction_count> counters_{};
    std::vector<prometheus::Gauge*> listeners_;
};

}  // namespace b2b::b2bua
