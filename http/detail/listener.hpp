// The HTTP server's internals: the acceptor, the connection budget, the routes, the sessions.
#pragma once

#include "http/detail/pending_answer.hpp"
#include "http/detail/router.hpp"
#include "http/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>
#include <spdlog/logger.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace b2b::http::detail {

/// "127.0.0.1:9090", "[::1]:9090".
std::string to_string(const boost::asio::ip::tcp::endpoint& ep);

/// What the listener needs of a session of either kind (plain or TLS).
class session_base {
public:
    virtual ~session_base() = default;
    /// Starts the session: the TLS handshake, if any, then the first request.
    virtual void run() = 0;
    /// Aborts whatever is pending; the session ends when its handlers see the error.
    virtual void close() = 0;
};

/// Owns the acceptor, the routes and the set of open sessions. Shared with every session so
/// that a session outliving the `http_server` handle still finds its options and logger.
/// Everything but `stats()` runs on the server's executor.
class http_listener : public std::enable_shared_from_this<http_listener> {
public:
    http_listener(boost::asio::any_io_executor ex, boost::asio::ip::tcp::endpoint endpoint,
                  http_server_options options);

    boost::beast::error_code start();
    void stop();
    /// For the server's destructor: no answer is posted to the executor any more.
    void close_gate() { gate_->close(); }

    void add_route(boost::beast::http::verb method, std::string path, route handler) {
        router_.add(method, std::move(path), std::move(handler));
    }
    route_match find(boost::beast::http::verb method, std::string_view path) const {
        return router_.find(method, path);
    }
    void set_observer(http_observer* observer) { observer_ = observer; }
    /// Tells the observer, if any, that `which` was exceeded.
    void timed_out(http_timeout which) const {
        if (observer_ != nullptr) observer_->on_timeout(which);
    }

    boost::asio::ip::tcp::endpoint local_endpoint() const { return endpoint_; }
    std::size_t session_count() const { return sessions_.size(); }
    http_server_stats stats() const;
    const http_server_options& options() const { return options_; }
    spdlog::logger& log() const { return *log_; }
    const std::shared_ptr<answer_gate>& gate() const { return gate_; }

    /// Called by a session's destructor.
    void forget(session_base* session, const boost::asio::ip::address& source);

private:
    void do_accept();
    void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);
    /// Why `source` may not have one more connection, if it may not.
    std::optional<connection_refusal> over_budget(const boost::asio::ip::address& source) const;
    void refuse(connection_refusal why, const boost::asio::ip::tcp::endpoint& remote);

    boost::asio::ip::tcp::endpoint endpoint_;
    http_server_options options_;
    std::shared_ptr<spdlog::logger> log_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<answer_gate> gate_;
    /// Set by start() when `options_.tls` is given.
    std::shared_ptr<boost::asio::ssl::context> tls_;
    router router_;
    http_observer* observer_ = nullptr;
    /// Every live session: each is added here when accepted and leaves in its destructor.
    std::unordered_set<session_base*> sessions_;
    /// Open connections per client address.
    std::unordered_map<boost::asio::ip::address, std::size_t> per_source_;
    /// Mirrors of the counts for `stats()` on other threads.
    std::atomic<std::size_t> open_{0};
    std::array<std::atomic<std::uint64_t>, std::size(all_connection_refusals)> refused_{};
    /// Refusals are logged at most once per interval, with how many there were since.
    std::chrono::steady_clock::time_point last_refusal_log_{};
    std::uint64_t refused_since_log_ = 0;
};

}  // namespace b2b::http::detail
