// The HTTP server's Prometheus metrics: connections refused and bounds exceeded.
#pragma once

#include "http/http_observer.hpp"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <array>
#include <cstddef>
#include <iterator>

namespace b2b::b2bua {

/// b2bua_http_connections_refused_total{reason} (max_connections: http.max_connections were
/// open; source_limit: the client's address held http.max_connections_per_source) and
/// b2bua_http_timeouts_total{phase} (tls_handshake, header, body, write: the connection was
/// closed; answer: the admin API did not answer in time and sent 503). Every reason and phase
/// exists at zero from construction.
///
/// @par Thread safety
/// Called on the HTTP server's thread; updates are atomic (prometheus-cpp).
class http_metrics final : public http::http_observer {
public:
    explicit http_metrics(prometheus::Registry& registry);

    // http::http_observer
    void on_connection_refused(http::connection_refusal why) override;
    void on_timeout(http::http_timeout which) override;

private:
    std::array<prometheus::Counter*, std::size(http::all_connection_refusals)> refused_{};
    std::array<prometheus::Counter*, std::size(http::all_http_timeouts)> timeouts_{};
};

}  // namespace b2b::b2bua
