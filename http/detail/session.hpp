// One HTTP connection, plain or TLS: read a request, answer it, repeat while keep-alive holds.
#pragma once

#include "http/detail/listener.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>

namespace b2b::http::detail {

/// Makes the session for an accepted plain-TCP connection; `run()` starts it.
std::shared_ptr<session_base> make_plain_session(boost::asio::ip::tcp::socket socket,
                                                 std::shared_ptr<http_listener> listener,
                                                 boost::asio::ip::tcp::endpoint remote);

/// Makes the session for an accepted connection that must first complete a TLS handshake.
std::shared_ptr<session_base> make_tls_session(boost::asio::ip::tcp::socket socket,
                                               boost::asio::ssl::context& tls,
                                               std::shared_ptr<http_listener> listener,
                                               boost::asio::ip::tcp::endpoint remote);

}  // namespace b2b::http::detail
