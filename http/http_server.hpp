// HTTP/1.1 server on Boost.Beast with a small router: /metrics, /healthz and the admin API,
// on plain TCP or TLS, with connection budgets and timeouts that a slow client cannot outlast.
#pragma once

#include "http/http_observer.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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
    /// The client's address and port (the TCP peer: no proxy header is believed).
    boost::asio::ip::tcp::endpoint remote{};
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

namespace detail {
class pending_answer;
}

/// Completes one request of an async route, from any thread. Copies share the one answer:
/// the first call sends it (the session posts it onto its own executor), later calls are
/// ignored, and when the last copy goes away without a call the client gets 500, so no client
/// waits for an answer nobody will give. An answer that comes after the connection closed,
/// or after `answer_timeout` (the client got 503), is dropped. Once the `http_server` is
/// destroyed, calls and destruction do nothing.
class responder {
public:
    explicit responder(std::shared_ptr<detail::pending_answer> answer) : answer_(std::move(answer)) {}

    /// Sends `r` as the answer, unless one was sent already. Thread-safe.
    void operator()(response r) const;

private:
    std::shared_ptr<detail::pending_answer> answer_;
};

/// Starts answering one request and returns at once; the answer goes through `done`, later
/// and from any thread (e.g. after a function posted to the SIP event loop has run). Runs on
/// the server's executor. `request`'s views die when this returns: copy what the answer
/// needs (body, path, query, header values) before returning. An exception it throws before
/// answering becomes a 500.
using async_route_handler = std::function<void(const request&, responder done)>;

/// HTTPS: our certificate chain (PEM, leaf first) and its private key (PEM).
struct tls_files {
    std::string certificate;
    std::string key;
};

/// Limits of an `http_server`; the defaults suit the metrics and admin endpoints.
struct http_server_options {
    /// Larger request bodies get 413 and the connection is closed.
    std::size_t body_limit = 1024 * 1024;
    /// Connections beyond this many in all are accepted and closed at once.
    std::size_t max_sessions = 256;
    /// Connections beyond this many from one client address are accepted and closed at once,
    /// so one address holding slow connections cannot take the others' places. 0: no such limit.
    std::size_t max_sessions_per_source = 16;
    /// The whole header section of a request must arrive within this, counted from the
    /// connection's start (after the TLS handshake) or, on a keep-alive connection, from the
    /// request's first byte: a client sending a byte a second is cut, not waited for.
    std::chrono::steady_clock::duration header_timeout = std::chrono::seconds(10);
    /// The body must arrive within this after the header section.
    std::chrono::steady_clock::duration body_timeout = std::chrono::seconds(30);
    /// A keep-alive connection with no request for this long is closed.
    std::chrono::steady_clock::duration idle_timeout = std::chrono::seconds(30);
    /// Bound on writing one response, and on the closing exchange after it.
    std::chrono::steady_clock::duration write_timeout = std::chrono::seconds(30);
    /// Bound on the TLS handshake.
    std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);
    /// An async route that has not answered within this gets 503 sent for it.
    std::chrono::steady_clock::duration answer_timeout = std::chrono::seconds(30);
    /// HTTPS (TLS 1.2 or later) with these files; none = plain HTTP.
    std::optional<tls_files> tls{};
};

/// Counters of an `http_server`, readable from any thread.
struct http_server_stats {
    std::size_t open = 0;  ///< connections open now
    std::uint64_t refused_max_connections = 0;
    std::uint64_t refused_source_limit = 0;
};

namespace detail {
class http_listener;
}

/// An HTTP/1.1 server (keep-alive, optionally over TLS) that dispatches requests to route
/// handlers.
///
/// Routes are exact paths ("/metrics") or prefixes written with a trailing '*'
/// ("/api/v1/trunks/*" matches "/api/v1/trunks/acme" and hands the handler rest = "acme").
/// An exact route wins over a prefix, and a longer prefix over a shorter one; the path's
/// winner alone decides between handler and 405. The query string is not part of the match.
/// Answers of its own: 404 for an unknown path, 405 with Allow for a
/// known path without a handler for the method, 400 for an unparseable request, 413 for a
/// body over the limit, 431 for a header section over Beast's limit (8 KiB), 500 when a
/// handler throws, 503 when an async route does not answer in time.
///
/// Connections over a budget (in all, or from one address) are closed as soon as accepted,
/// counted, and logged at most every 10 s. A connection that exceeds a timeout is closed
/// without an answer (the timed-out socket is gone).
///
/// @par Ownership
/// The server owns its acceptor and its sessions. Sessions share the server's internals, so
/// destroying the server is safe while their aborted operations are still queued; the
/// executor's execution context must outlive the server, as for any Asio I/O object.
///
/// @par Thread safety
/// Every member but `stats()`, and every handler, runs on the executor given at construction,
/// which should be the server's own thread so that no request, however slow, delays SIP
/// traffic. Routes and the observer are set before `start()` (or on that executor). Handlers
/// reach state owned by another thread only by posting to it; async routes answer from there.
class http_server {
public:
    /// Nothing is opened until `start()`. Port 0 in `listen` picks a free port.
    http_server(boost::asio::any_io_executor ex, boost::asio::ip::tcp::endpoint listen,
                http_server_options options = {});
    /// Calls `stop()`; from then on, responders do nothing.
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    /// Adds a route; `path` ending in '*' is a prefix route.
    /// Throws std::invalid_argument when `path` does not start with '/', `method` is
    /// `verb::unknown`, or the same method and path are already routed (a programming error).
    void add_route(boost::beast::http::verb method, std::string path, route_handler handler);
    /// Adds a route answered asynchronously (see `async_route_handler`); same rules.
    void add_async_route(boost::beast::http::verb method, std::string path, async_route_handler handler);

    /// Told about refusals and timeouts from now on; null for none. Must outlive the server.
    void set_observer(http_observer* observer);

    /// Loads the TLS files when configured, binds, listens and starts accepting. Returns the
    /// error of open, bind or listen (the server then stays closed), or `already_open` when it
    /// is running. Throws std::runtime_error naming the file when a TLS file cannot be used.
    [[nodiscard]] boost::system::error_code start();

    /// Closes the acceptor and every open connection, abandoning requests in progress, so
    /// the executor runs out of work promptly. `start()` may be called again afterwards and
    /// binds the port the server had.
    void stop();

    /// The bound endpoint (with the chosen port) once started; before, the configured one.
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    /// Connections currently open.
    std::size_t session_count() const;

    /// Open and refused connections; safe from any thread.
    http_server_stats stats() const;

private:
    std::shared_ptr<detail::http_listener> impl_;
};

}  // namespace b2b::http
