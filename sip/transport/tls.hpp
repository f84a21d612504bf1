// SIP over TLS (RFC 3261 §26): what the configuration says, and what the transport reports.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace b2b::sip {

/// Where our TLS material lives (PEM files). Read at start and again on each reload.
struct tls_settings {
    /// Our certificate chain (leaf first) and its private key: what a TLS listener presents,
    /// and what we present to a provider that asks for a client certificate. Both or neither.
    std::string certificate;
    std::string key;
    /// CA certificates the peers' certificates must chain to; empty = the system store
    /// (OpenSSL's default verify paths, /etc/ssl/certs on Debian).
    std::string ca;
};

/// Which side of a TLS connection we are (the `direction` label of the handshake metrics).
enum class tls_direction : std::uint8_t {
    inbound,   ///< a peer connected to one of our tls:// listeners (we are the TLS server)
    outbound,  ///< we connected to a peer (we are the TLS client and verify its certificate)
};
std::string_view to_string(tls_direction d) noexcept;

/// Why a TLS handshake failed (the `reason` label).
enum class tls_failure : std::uint8_t {
    verify_failed,  ///< the peer's certificate did not verify: unknown CA, expired, wrong name
    handshake,      ///< any other handshake error: protocol version, no shared cipher, not TLS
    timeout,        ///< the handshake did not complete in time
};
inline constexpr tls_failure all_tls_failures[] = {tls_failure::verify_failed, tls_failure::handshake,
                                                   tls_failure::timeout};
std::string_view to_string(tls_failure f) noexcept;

/// Told by the transport about TLS events, for metrics. Called on the transport's thread.
class tls_observer {
public:
    virtual ~tls_observer() = default;
    /// A handshake failed; the connection was closed and its queued messages are lost.
    virtual void on_handshake_failure(tls_direction d, tls_failure why) = 0;
};

}  // namespace b2b::sip
