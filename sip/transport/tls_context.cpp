// Building the server and client TLS contexts, and reading a certificate's expiry.
#include "sip/transport/tls_context.hpp"

#include <openssl/asn1.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>

namespace b2b::sip {

namespace asio = boost::asio;

std::string_view to_string(tls_direction d) noexcept {
    switch (d) {
        case tls_direction::inbound: return "inbound";
        case tls_direction::outbound: return "outbound";
    }
    return "inbound";
}

std::string_view to_string(tls_failure f) noexcept {
    switch (f) {
        case tls_failure::verify_failed: return "verify_failed";
        case tls_failure::handshake: return "handshake";
        case tls_failure::timeout: return "timeout";
    }
    return "handshake";
}

namespace {

[[noreturn]] void fail(const char* field, const std::string& path, const boost::system::error_code& ec) {
    throw tls_error(std::string("sip.tls.") + field + ": cannot load '" + path + "': " + ec.message());
}

// RFC 8996 retired TLS 1.0 and 1.1; RFC 3261 §26.2.1 asks for TLS, and TLS 1.2 is what SIP
// providers and PBXs speak today.
std::shared_ptr<asio::ssl::context> make_context(asio::ssl::context::method m) {
    auto ctx = std::make_shared<asio::ssl::context>(m);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                     asio::ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    return ctx;
}

void use_identity(asio::ssl::context& ctx, const tls_settings& s) {
    boost::system::error_code ec;
    ctx.use_certificate_chain_file(s.certificate, ec);
    if (ec) fail("certificate", s.certificate, ec);
    // OpenSSL checks the key against the certificate loaded before it ("key values mismatch").
    ctx.use_private_key_file(s.key, asio::ssl::context::pem, ec);
    if (ec) fail("key", s.key, ec);
}

}  // namespace

tls_contexts load_tls(const tls_settings& s) {
    tls_contexts out;
    if (!s.certificate.empty()) {
        out.server = make_context(asio::ssl::context::tls_server);
        use_identity(*out.server, s);
        // We do not ask PBXs for certificates: they authenticate with digest (RFC 3261 §22).
        out.server->set_verify_mode(asio::ssl::verify_none);
        out.not_after = certificate_not_after(*out.server);
    }
    out.client = make_context(asio::ssl::context::tls_client);
    if (!s.certificate.empty()) use_identity(*out.client, s);
    boost::system::error_code ec;
    if (s.ca.empty()) {
        out.client->set_default_verify_paths(ec);
        if (ec) fail("ca", "the system store", ec);
    } else {
        out.client->load_verify_file(s.ca, ec);
        if (ec) fail("ca", s.ca, ec);
    }
    // RFC 3261 §26.3.1, RFC 5922 §7: a provider is only trusted with a certificate that
    // chains to a trusted CA; the host name is checked per connection (asio_transport).
    out.client->set_verify_mode(asio::ssl::verify_peer);
    return out;
}

std::optional<std::chrono::system_clock::time_point> certificate_not_after(asio::ssl::context& ctx) {
    X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
    if (cert == nullptr) return std::nullopt;
    const ASN1_TIME* t = X509_get0_notAfter(cert);
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
    // ASN1_TIME_to_tm gives UTC fields; timegm reads them as UTC.
    const std::time_t secs = timegm(&tm);
    return std::chrono::system_clock::from_time_t(secs);
}

}  // namespace b2b::sip
