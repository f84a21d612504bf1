// What the HTTP server tells its owner about connections it refused or cut, for metrics.
#pragma once

#include <cstdint>
#include <string_view>

namespace b2b::http {

/// Why a connection was closed as soon as it was accepted (the `reason` label).
enum class connection_refusal : std::uint8_t {
    max_connections,  ///< the server held `max_sessions` connections
    source_limit,     ///< the client's address held `max_sessions_per_source` connections
};
inline constexpr connection_refusal all_connection_refusals[] = {connection_refusal::max_connections,
                                                                 connection_refusal::source_limit};
std::string_view to_string(connection_refusal r) noexcept;

/// Which bound a connection or request exceeded (the `phase` label). The idle bound between
/// keep-alive requests is not among them: a client that stops asking is no anomaly.
enum class http_timeout : std::uint8_t {
    tls_handshake,  ///< the TLS handshake did not complete within `handshake_timeout`
    header,         ///< the header section did not arrive within `header_timeout`
    body,           ///< the body did not arrive within `body_timeout`
    write,          ///< the client did not take the response within `write_timeout`
    answer,         ///< an async route did not answer within `answer_timeout` (the client got 503)
};
inline constexpr http_timeout all_http_timeouts[] = {http_timeout::tls_handshake, http_timeout::header,
                                                     http_timeout::body, http_timeout::write,
                                                     http_timeout::answer};
std::string_view to_string(http_timeout t) noexcept;

/// Told by an `http_server` about connections it refused and bounds that were exceeded.
/// Called on the server's executor; an implementation shared with other threads (Prometheus
/// counters are) must be safe to use from it.
class http_observer {
public:
    virtual ~http_observer() = default;
    /// A connection was accepted and closed at once, unanswered.
    virtual void on_connection_refused(connection_refusal why) = 0;
    /// A bound was exceeded: the connection was closed (after a 503 for `answer`).
    virtual void on_timeout(http_timeout which) = 0;
};

}  // namespace b2b::http
