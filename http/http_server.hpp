// HTTP/1.1 server on Boost.Beast with a small router: serves /metrics now, the admin API later.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace b2b::http {

/// One HTTP request as a route handler sees it. The views point into the session's buffers
/// and are valid only during the handler call; copy what must outlive it.
struct request {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string_view target{};  ///< as sent: path and query
    std::string_view path{};    ///< the target up to '?', not percent-decoded
    std::string_view query{};   ///< the target after '?'; empty when there is none
    std::string_view rest{};    ///< prefix routes: the path after the prefix; empty for exact ones
    std::string_view body{};
    const boost::beast::http::fields& headers;
};

/// What a route handler returns. The server adds Content-Length and Connection itself.
struct response {
    boost::beast::http::status status = boost::beast::http::status::ok;
    /// Sent as Content-Type unless empty.
    std::string content_type = "text/plain; charset=utf-8";
    std::string body{};
    /// Extra header fields, e.g. Location.
    boost::beast::http::fields headers{};
};

/// Answers one request. Runs on the server's executor, so it must not block; an exception it
/// throws becomes a 500 and an error log line, never an escape from the server.
using route_handler = std::function<response(const request&)>;

/// Limits of an `http_server`; the defaults suit the metrics and admin endpoints.
struct http_server_options {
    /// Larger request bodies get 413 and the connection is closed.
    std::size_t body_limit = 1024 * 1024;
    /// Bound on reading one request, including the idle wait between keep-alive requests, and
    /// on writing one response. A connection that exceeds it is closed without an answer.
    std::chrono::steady_clock::duration read_timeout = std::chrono::seconds(30);
    /// Connections beyond this many are accepted and closed at once.
    std::size_t max_sessions = 256;
};

namespace detail {
class http_listener;
}

/// An HTTP/1.1 server (keep-alive, no TLS) that dispatches requests to route handlers.
///
/// Routes are exact paths ("/metrics") or prefixes written with a trailing '*'
/// ("/api/v1/trunks/*" matches "/api/v1/trunks/acme" and hands the handler rest = "acme").
/// An exact route wins over a prefix, and a longer prefix over a shorter one; the path's
/// winner alone decides between handler and 405. The query string is not part of the match.
/// Answers of its own: 404 for an unknown path, 405 with Allow for a
/// known path without a handler for the method, 400 for an unparseable request, 413 for a
/// body over the limit, 431 for a header section over Beast's limit (8 KiB), 500 when a
/// handler throws.
///
/// @par Ownership
/// The server owns its acceptor and its sessions. Sessions share the server's internals, so
/// destroying the server is safe while their aborted operations are still queued; the
/// executor's execution context must outlive the server, as for any Asio I/O object.
///
/// @par Thread safety
/// None. Every member, and every handler, runs on the executor given at construction: in
/// the B2BUA that is the single event loop that also runs SIP, so handlers may read SIP-side
/// state without locks but must return quickly. If several threads run the execution
/// context, pass a strand, and call the members from it.
class http_server {
public:
    /// Nothing is opened until `start()`. Port 0 in `listen` picks a free port.
    http_server(boost::asio::any_io_executor ex, boost::asio::ip::tcp::endpoint listen,
                http_server_options options = {});
    /// Calls `stop()`.
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    /// Adds a route; `path` ending in '*' is a prefix route. Routes may be added at any time.
    /// Throws std::invalid_argument when `path` does not start with '/', `method` is
    /// `verb::unknown`, or the same method and path are already routed (a programming error).
    void add_route(boost::beast::http::verb method, std::string path, route_handler handler);

    /// Binds, listens and starts accepting. Returns the error of open, bind or listen (the
    /// server then stays closed), or `already_open` when it is running.
    [[nodiscard]] boost::system::error_code start();

    /// Closes the acceptor and every open connection, abandoning requests in progress, so
    /// the executor runs out of work promptly. `start()` may be called again afterwards and
    /// binds the port the server had.
    void stop();

    /// The bound endpoint (with the chosen port) once started; before, the configured one.
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    /// Connections currently open.
    std::size_t session_count() const;

private:
    std::shared_ptr<detail::http_listener> impl_;
};

}  // namespace b2b::http
