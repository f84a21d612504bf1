// The accept loop and the connection budget: in all, and per client address.
#include "http/detail/listener.hpp"

#include "http/detail/session.hpp"
#include "http/detail/tls_context.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <spdlog/spdlog.h>

#include <utility>

namespace b2b::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

/// The "http" logger; a clone of the default logger (same sinks and level) unless main made one.
std::shared_ptr<spdlog::logger> http_logger() {
    if (auto existing = spdlog::get("http")) return existing;
    auto created = spdlog::default_logger()->clone("http");
    try {
        spdlog::register_logger(created);
    } catch (const spdlog::spdlog_ex&) {
        // Another thread registered it between our get and register: use that one.
        if (auto existing = spdlog::get("http")) return existing;
    }
    return created;
}

/// A flood of refused connections costs at most one log line per this interval.
constexpr std::chrono::seconds refusal_log_interval{10};

std::size_t index(connection_refusal r) { return static_cast<std::size_t>(r); }

}  // namespace

std::string to_string(const tcp::endpoint& ep) {
    const std::string address = ep.address().to_string();
    return (ep.address().is_v6() ? '[' + address + ']' : address) + ':' + std::to_string(ep.port());
}

http_listener::http_listener(asio::any_io_executor ex, tcp::endpoint endpoint, http_server_options options)
    : endpoint_(endpoint),
      options_(std::move(options)),
      log_(http_logger()),
      acceptor_(ex),
      gate_(std::make_shared<answer_gate>(ex)) {}

beast::error_code http_listener::start() {
    if (acceptor_.is_open()) return asio::error::already_open;
    // Before binding: a file that cannot be used stops the start with its name.
    if (options_.tls && !tls_) tls_ = make_server_tls_context(*options_.tls);
    beast::error_code ec;
    auto fail = [&](std::string_view what) {
        log_->error("cannot listen on {}: {}: {}", to_string(endpoint_), what, ec.message());
        beast::error_code ignored;
        acceptor_.close(ignored);
        return ec;
    };
    acceptor_.open(endpoint_.protocol(), ec);
    if (ec) return fail("open");
    // A restarted process must be able to bind while old connections sit in TIME_WAIT.
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return fail("set_option");
    acceptor_.bind(endpoint_, ec);
    if (ec) return fail("bind");
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen");
    endpoint_ = acceptor_.local_endpoint(ec);
    if (ec) return fail("local_endpoint");
    log_->info("listening on {}://{}", tls_ ? "https" : "http", to_string(endpoint_));
    do_accept();
    return {};
}

void http_listener::stop() {
    beast::error_code ignored;
    acceptor_.close(ignored);
    // Closing only queues the aborted handlers, so no session is destroyed, and none leaves
    // the set, while we iterate.
    for (session_base* s : sessions_) s->close();
}

http_server_stats http_listener::stats() const {
    return {.open = open_.load(),
            .refused_max_connections = refused_[index(connection_refusal::max_connections)].load(),
            .refused_source_limit = refused_[index(connection_refusal::source_limit)].load()};
}

void http_listener::forget(session_base* session, const asio::ip::address& source) {
    sessions_.erase(session);
    open_.store(sessions_.size());
    if (auto it = per_source_.find(source); it != per_source_.end() && --it->second == 0) per_source_.erase(it);
}

void http_listener::do_accept() {
    acceptor_.async_accept(beast::bind_front_handler(&http_listener::on_accept, shared_from_this()));
}

std::optional<connection_refusal> http_listener::over_budget(const asio::ip::address& source) const {
    if (sessions_.size() >= options_.max_sessions) return connection_refusal::max_connections;
    if (options_.max_sessions_per_source == 0) return std::nullopt;
    const auto it = per_source_.find(source);
    if (it != per_source_.end() && it->second >= options_.max_sessions_per_source)
        return connection_refusal::source_limit;
    return std::nullopt;
}

void http_listener::refuse(connection_refusal why, const tcp::endpoint& remote) {
    ++refused_[index(why)];
    if (observer_ != nullptr) observer_->on_connection_refused(why);
    ++refused_since_log_;
    const auto now = std::chrono::steady_clock::now();
    if (last_refusal_log_ != std::chrono::steady_clock::time_point{} && now - last_refusal_log_ < refusal_log_interval)
        return;
    if (why == connection_refusal::source_limit) {
        log_->warn("refusing connections from {}: it holds {}, the limit per client address; {} refused since the "
                   "last such line",
                   remote.address().to_string(), options_.max_sessions_per_source, refused_since_log_);
    } else {
        log_->warn("refusing connections: {} are open, the limit in all; {} refused since the last such line",
                   sessions_.size(), refused_since_log_);
    }
    last_refusal_log_ = now;
    refused_since_log_ = 0;
}

void http_listener::on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;  // stop()
    if (ec) {
        // A failed accept (a reset before we got to it, out of descriptors) concerns that one
        // connection only; keep serving the others.
        log_->warn("accept: {}", ec.message());
        return do_accept();
    }
    tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec) return do_accept();  // reset already: the socket closes as it goes out of scope
    if (const auto why = over_budget(remote.address())) {
        // Dropping the socket closes it: the client sees the connection end unanswered.
        refuse(*why, remote);
        return do_accept();
    }
    auto session = tls_ ? make_tls_session(std::move(socket), *tls_, shared_from_this(), remote)
                        : make_plain_session(std::move(socket), shared_from_this(), remote);
    sessions_.insert(session.get());
    ++per_source_[remote.address()];
    open_.store(sessions_.size());
    session->run();
    do_accept();
}

}  // namespace b2b::http::detail
