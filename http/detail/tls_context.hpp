// The TLS context of an HTTPS server, loaded from PEM files.
#pragma once

#include "http/http_server.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>

namespace b2b::http::detail {

/// A TLS 1.2+ server context presenting `files`. Throws std::runtime_error naming the file
/// that cannot be read or used (a key that does not match the certificate names the key).
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const tls_files& files);

}  // namespace b2b::http::detail
