// The OpenSSL contexts of SIP over TLS, built from the configured PEM files.
#pragma once

#include "sip/transport/tls.hpp"

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace b2b::sip {

/// A TLS file could not be used. `what()` names the configuration field and the file, e.g.
/// "sip.tls.key: cannot load '/etc/b2bua/key.pem': ... (key values mismatch)".
class tls_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One load of the TLS material: the context a TLS listener hands its new connections, the
/// one our outbound connections use, and our certificate's expiry. Immutable once built; a
/// reload builds a new one, and connections already up keep the one they were made with (each
/// OpenSSL connection holds a reference to its context).
struct tls_contexts {
    /// TLS 1.2 or later, our certificate and key; null without a certificate.
    std::shared_ptr<boost::asio::ssl::context> server;
    /// TLS 1.2 or later, verifying the peer's chain against `ca` (or the system store); it
    /// presents our certificate when a provider asks for one.
    std::shared_ptr<boost::asio::ssl::context> client;
    /// Our certificate's notAfter; empty without a certificate.
    std::optional<std::chrono::system_clock::time_point> not_after;
};

/// Reads the files `s` names and builds both contexts. Throws `tls_error` naming the field
/// (`sip.tls.certificate`, `.key`, `.ca`). Control plane only: at start and on SIGHUP.
tls_contexts load_tls(const tls_settings& s);

/// The notAfter of the certificate a context presents, if it has one.
std::optional<std::chrono::system_clock::time_point> certificate_not_after(boost::asio::ssl::context& ctx);

}  // namespace b2b::sip
