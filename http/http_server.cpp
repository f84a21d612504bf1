// HTTP/1.1 server: the accept loop, one session per connection, dispatch through the router.
#include "http/http_server.hpp"

#include "http/detail/router.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include <exception>
#include <optional>
#include <unordered_set>
#include <utility>

namespace b2b::http {

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

std::string to_string(const tcp::endpoint& ep) {
    const std::string address = ep.address().to_string();
    return (ep.address().is_v6() ? '[' + address + ']' : address) + ':' + std::to_string(ep.port());
}

bool is_parse_error(const beast::error_code& ec) {
    return ec.category() == beast::error_code(beast::http::error::bad_target).category();
}

}  // namespace

namespace detail {

class http_session;

/// Owns the acceptor, the routes and the set of open sessions. Shared with every session so
/// that a session outliving the `http_server` handle still finds its options and logger.
class http_listener : public std::enable_shared_from_this<http_listener> {
public:
    http_listener(asio::any_io_executor ex, tcp::endpoint endpoint, http_server_options options)
        : endpoint_(endpoint),
          options_(options),
          log_(http_logger()),
          acceptor_(std::move(ex)) {}

    beast::error_code start();
    void stop();

    void add_route(beast::http::verb method, std::string path, route_handler handler) {
        router_.add(method, std::move(path), std::move(handler));
    }
    tcp::endpoint local_endpoint() const { return endpoint_; }
    std::size_t session_count() const { return sessions_.size(); }
    const http_server_options& options() const { return options_; }
    spdlog::logger& log() const { return *log_; }

    /// Routes `req` and runs its handler; always returns a response.
    response dispatch(const beast::http::request<beast::http::string_body>& req) const;

    /// Called by a session's destructor.
    void forget(http_session* session) { sessions_.erase(session); }

private:
    void do_accept();
    void on_accept(beast::error_code ec, tcp::socket socket);

    tcp::endpoint endpoint_;
    http_server_options options_;
    std::shared_ptr<spdlog::logger> log_;
    tcp::acceptor acceptor_;
    router router_;
    /// Every live session: each adds itself here when accepted and leaves in its destructor.
    std::unordered_set<http_session*> sessions_;
};

/// One connection: read a request, answer it, repeat while keep-alive holds (after Beast's
/// advanced_server example). Kept alive by its pending operation's handler.
class http_session : public std::enable_shared_from_this<http_session> {
public:
    http_session(tcp::socket socket, std::shared_ptr<http_listener> listener)
        : stream_(std::move(socket)), listener_(std::move(listener)) {}
    ~http_session() { listener_->forget(this); }
    http_session(const http_session&) = delete;
    http_session& operator=(const http_session&) = delete;

    void run() { do_read(); }
    /// Aborts whatever is pending; the session ends when its handler sees the error.
    void close() { stream_.close(); }

private:
    void do_read();
    void on_read(beast::error_code ec, std::size_t bytes);
    void on_read_error(beast::error_code ec);
    void send(response r, unsigned version, bool keep_alive);
    void send_error(beast::http::status status, std::string body);
    void on_write(bool keep_alive, beast::error_code ec, std::size_t bytes);
    void do_close();
    void do_drain();
    void on_drain(beast::error_code ec, std::size_t bytes);

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    // A fresh parser per request: Beast parsers are single-use.
    std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
    beast::http::response<beast::http::string_body> response_;
    std::shared_ptr<http_listener> listener_;
};

beast::error_code http_listener::start() {
    if (acceptor_.is_open()) return asio::error::already_open;
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
    log_->info("listening on http://{}", to_string(endpoint_));
    do_accept();
    return {};
}

void http_listener::stop() {
    beast::error_code ignored;
    acceptor_.close(ignored);
    // Closing only queues the aborted handlers, so no session is destroyed, and none leaves
    // the set, while we iterate.
    for (http_session* s : sessions_) s->close();
}

void http_listener::do_accept() {
    acceptor_.async_accept(
        beast::bind_front_handler(&http_listener::on_accept, shared_from_this()));
}

void http_listener::on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;  // stop()
    if (ec) {
        // A failed accept (a reset before we got to it, out of descriptors) concerns that one
        // connection only; keep serving the others.
        log_->warn("accept: {}", ec.message());
    } else if (sessions_.size() >= options_.max_sessions) {
        // Dropping the socket closes it: the client sees the connection end unanswered.
        log_->debug("refusing a connection: {} sessions open", sessions_.size());
    } else {
        auto session = std::make_shared<http_session>(std::move(socket), shared_from_this());
        sessions_.insert(session.get());
        session->run();
    }
    do_accept();
}

response http_listener::dispatch(const beast::http::request<beast::http::string_body>& req) const {
    const std::string_view target = req.target();
    const std::size_t question = target.find('?');
    const std::string_view path = target.substr(0, question);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

    const route_match match = router_.find(req.method(), path);
    if (match.handler == nullptr) {
        if (match.allow.empty())
            return {.status = beast::http::status::not_found, .body = "not found\n"};
        response r{.status = beast::http::status::method_not_allowed,
                   .body = "method not allowed\n"};
        r.headers.set(beast::http::field::allow, match.allow);
        return r;
    }
    try {
        return (*match.handler)(request{.method = req.method(),
                                        .target = target,
                                        .path = path,
                                        .query = query,
                                        .rest = match.rest,
                                        .body = req.body(),
                                        .headers = req.base()});
    } catch (const std::exception& e) {
        log_->error("{} {}: handler failed: {}", std::string_view(req.method_string()), path,
                    e.what());
    } catch (...) {
        log_->error("{} {}: handler failed with a non-standard exception",
                    std::string_view(req.method_string()), path);
    }
    return {.status = beast::http::status::internal_server_error,
            .body = "internal server error\n"};
}

void http_session::do_read() {
    parser_.emplace();
    parser_->body_limit(listener_->options().body_limit);
    // Also bounds the idle wait of a keep-alive connection.
    stream_.expires_after(listener_->options().read_timeout);
    beast::http::async_read(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t /*bytes*/) {
    // Expected endings first: the client closed between requests, stayed silent past the read
    // timeout (tcp_stream has closed the socket), or stop() closed us.
    if (ec == beast::http::error::end_of_stream) return do_close();
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted) return;
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    send(listener_->dispatch(req), req.version(), req.keep_alive());
}

void http_session::on_read_error(beast::error_code ec) {
    listener_->log().debug("read: {}", ec.message());
    // Answers to requests we will not serve. Each closes the connection afterwards: the rest
    // of the request is unread, so the stream cannot be resynchronised.
    if (ec == beast::http::error::body_limit)
        return send_error(beast::http::status::payload_too_large, "request body too large\n");
    if (ec == beast::http::error::header_limit)
        return send_error(beast::http::status::request_header_fields_too_large,  // RFC 6585 §5
                          "request header fields too large\n");
    if (ec != beast::http::error::partial_message && is_parse_error(ec))
        return send_error(beast::http::status::bad_request, "bad request\n");
    // Otherwise a reset, or the client closed mid-request: nobody is left to answer.
}

void http_session::send(response r, unsigned version, bool keep_alive) {
    response_ = beast::http::response<beast::http::string_body>(r.status, version);
    for (const auto& field : r.headers) response_.insert(field.name_string(), field.value());
    if (!r.content_type.empty()) response_.set(beast::http::field::content_type, r.content_type);
    response_.body() = std::move(r.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    // A client that stops reading must not hold the session forever either.
    stream_.expires_after(listener_->options().read_timeout);
    beast::http::async_write(stream_, response_,
                             beast::bind_front_handler(&http_session::on_write,
                                                       shared_from_this(), keep_alive));
}

void http_session::send_error(beast::http::status status, std::string body) {
    send(response{.status = status, .body = std::move(body)}, 11, false);
}

void http_session::on_write(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted) return;
    if (ec) {
        listener_->log().debug("write: {}", ec.message());
        return;
    }
    if (!keep_alive) return do_close();
    do_read();
}

void http_session::do_close() {
    // RFC 9112 §9.6: close in stages. Send our FIN, then read and discard until the client
    // closes too. Closing with unread request bytes (an oversized body) would make the
    // kernel send a reset, which can destroy the response before the client reads it. The
    // timeout, set once here, bounds the whole drain.
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(listener_->options().read_timeout);
    do_drain();
}

void http_session::do_drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(4096),
                            beast::bind_front_handler(&http_session::on_drain, shared_from_this()));
}

void http_session::on_drain(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return;  // the client's FIN (end of file), the timeout, or stop(): all are the end
    do_drain();
}

}  // namespace detail

http_server::http_server(asio::any_io_executor ex, tcp::endpoint listen,
                         http_server_options options)
    : impl_(std::make_shared<detail::http_listener>(std::move(ex), listen, options)) {}

http_server::~http_server() { impl_->stop(); }

void http_server::add_route(beast::http::verb method, std::string path, route_handler handler) {
    impl_->add_route(method, std::move(path), std::move(handler));
}

boost::system::error_code http_server::start() { return impl_->start(); }

void http_server::stop() { impl_->stop(); }

tcp::endpoint http_server::local_endpoint() const { return impl_->local_endpoint(); }

std::size_t http_server::session_count() const { return impl_->session_count(); }

}  // namespace b2b::http
