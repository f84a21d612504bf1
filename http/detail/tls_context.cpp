// HTTPS server context: TLS 1.2 or later, our certificate chain and key, no client certificates.
#include "http/detail/tls_context.hpp"

#include <openssl/ssl.h>

#include <stdexcept>
#include <string>

namespace b2b::http::detail {

namespace asio = boost::asio;

std::shared_ptr<asio::ssl::context> make_server_tls_context(const tls_files& files) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    // RFC 8996 deprecates TLS 1.0 and 1.1; RFC 9325 §3.1.1 asks for 1.2 at least.
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1)
        throw std::runtime_error("cannot require TLS 1.2 or later");
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(files.certificate, ec);
    if (ec) throw std::runtime_error("cannot load the certificate file '" + files.certificate + "': " + ec.message());
    // OpenSSL checks the key against the certificate loaded before it ("key values mismatch").
    ctx->use_private_key_file(files.key, asio::ssl::context::pem, ec);
    if (ec) throw std::runtime_error("cannot load the key file '" + files.key + "': " + ec.message());
    // HTTP clients authenticate with the admin token, not with certificates.
    ctx->set_verify_mode(asio::ssl::verify_none);
    return ctx;
}

}  // namespace b2b::http::detail
