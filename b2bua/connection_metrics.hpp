// The stream transports' Prometheus metrics: connections open, refused, and closed by us.
#pragma once

#include "sip/transport/connection_events.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <cstddef>

namespace b2b::b2bua {

/// b2bua_sip_connections{transport,direction} (open now),
/// b2bua_sip_connections_refused_total{transport,reason} (limit, source_limit, outbound_limit,
/// descriptors, banned), b2bua_sip_connections_closed_total{transport,reason} (idle, slow_reader,
/// framing_error, banned: the closes we decide; a peer's own close is not counted). Every series of
/// every stream transport exists at zero from the start.
///
/// @par Thread safety
/// Updates are atomic (prometheus-cpp).
class connection_metrics final : public sip::connection_observer {
public:
    explicit connection_metrics(prometheus::Registry& registry);

    void on_connection_opened(sip::transport_kind k, sip::connection_direction d) override;
    void on_connection_closed(sip::transport_kind k, sip::connection_direction d) override;
    void on_connection_refused(sip::transport_kind k, sip::connection_refusal r) override;
    void on_connection_dropped(sip::transport_kind k, sip::connection_close c) override;

private:
    static constexpr std::size_t kinds = 3;  // indexed by sip::transport_kind; udp's stay empty
    std::array<std::array<prometheus::Gauge*, 2>, kinds> open_{};
    std::array<std::array<prometheus::Counter*, 5>, kinds> refused_{};
    std::array<std::array<prometheus::Counter*, 4>, kinds> closed_{};
};

}  // namespace b2b::b2bua
