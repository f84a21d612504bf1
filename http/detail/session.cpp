// One HTTP connection (after Beast's advanced_server example), on plain TCP or TLS. Each phase
// has its own bound: the handshake, the header section, the body, the idle wait between
// keep-alive requests, the write of the answer, and an async route's answer.
#include "http/detail/session.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace b2b::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

bool is_parse_error(const beast::error_code& ec) {
    return ec.category() == beast::error_code(beast::http::error::bad_target).category();
}

long long whole_seconds(std::chrono::steady_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

template <class Stream>
class http_session final : public session_base, public std::enable_shared_from_this<http_session<Stream>> {
public:
    static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

    http_session(Stream stream, std::shared_ptr<http_listener> listener, tcp::endpoint remote)
        : stream_(std::move(stream)),
          answer_timer_(stream_.get_executor()),
          listener_(std::move(listener)),
          remote_(remote) {}
    ~http_session() override { listener_->forget(this, remote_.address()); }
    http_session(const http_session&) = delete;
    http_session& operator=(const http_session&) = delete;

    void run() override;
    void close() override {
        beast::get_lowest_layer(stream_).close();
        answer_timer_.cancel();
    }

private:
    using self = http_session<Stream>;

    beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
    const http_server_options& options() const { return listener_->options(); }
    spdlog::logger& log() const { return listener_->log(); }

    void on_handshake(beast::error_code ec);
    void read_request(bool first);
    void on_idle_read(beast::error_code ec, std::size_t bytes);
    void read_header();
    void on_header(beast::error_code ec, std::size_t bytes);
    void on_body(beast::error_code ec, std::size_t bytes);
    void on_read_error(beast::error_code ec, http_timeout phase);
    void dispatch();
    void start_async(const async_route_handler& handler, const request& req);
    void on_answer(std::uint64_t id, response r, bool abandoned);
    void on_answer_timeout(std::uint64_t id, beast::error_code ec);
    void send(response r, unsigned version, bool keep_alive);
    void send_error(beast::http::status status, std::string body);
    void on_write(bool keep_alive, beast::error_code ec, std::size_t bytes);
    void do_close();
    void do_drain();
    void on_drain(beast::error_code ec, std::size_t bytes);

    Stream stream_;
    beast::flat_buffer buffer_;
    // A fresh parser per request: Beast parsers are single-use.
    std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
    beast::http::response<beast::http::string_body> response_;
    /// Bounds the wait for an async route's answer; its pending wait keeps the session alive
    /// meanwhile, since no I/O is pending then.
    asio::steady_timer answer_timer_;
    /// The request an async route is answering: its number (0: none), and what its answer needs.
    std::uint64_t awaiting_ = 0;
    std::uint64_t requests_ = 0;
    unsigned awaiting_version_ = 11;
    bool awaiting_keep_alive_ = false;
    std::string awaiting_what_;  ///< "GET /api/v1/trunks", for the log
    std::shared_ptr<http_listener> listener_;
    tcp::endpoint remote_;
};

template <class Stream>
void http_session<Stream>::run() {
    if constexpr (is_tls) {
        lowest().expires_after(options().handshake_timeout);
        stream_.async_handshake(asio::ssl::stream_base::server,
                                beast::bind_front_handler(&self::on_handshake, this->shared_from_this()));
    } else {
        read_request(true);
    }
}

template <class Stream>
void http_session<Stream>::on_handshake(beast::error_code ec) {
    if (ec == beast::error::timeout) listener_->timed_out(http_timeout::tls_handshake);
    if (ec) {
        if (ec != asio::error::operation_aborted)
            log().debug("TLS handshake with {}: {}", to_string(remote_), ec.message());
        return;
    }
    read_request(true);
}

template <class Stream>
void http_session<Stream>::read_request(bool first) {
    parser_.emplace();
    parser_->body_limit(options().body_limit);
    if (first || buffer_.size() != 0) return read_header();
    // Keep-alive: wait for the next request's first byte under the idle bound; its header
    // section then gets the header bound of its own.
    lowest().expires_after(options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(1024),
                            beast::bind_front_handler(&self::on_idle_read, this->shared_from_this()));
}

template <class Stream>
void http_session<Stream>::on_idle_read(beast::error_code ec, std::size_t bytes) {
    // The client closed, stayed idle past the bound, or stop() closed us: all end the session.
    if (ec) return;
    buffer_.commit(bytes);
    read_header();
}

template <class Stream>
void http_session<Stream>::read_header() {
    // One deadline for the whole header section, not one per read: a client trickling a
    // byte at a time would otherwise renew it forever (slowloris).
    lowest().expires_after(options().header_timeout);
    beast::http::async_read_header(stream_, buffer_, *parser_,
                                   beast::bind_front_handler(&self::on_header, this->shared_from_this()));
}

template <class Stream>
void http_session<Stream>::on_header(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return on_read_error(ec, http_timeout::header);
    if (parser_->is_done()) return dispatch();
    lowest().expires_after(options().body_timeout);
    beast::http::async_read(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&self::on_body, this->shared_from_this()));
}

template <class Stream>
void http_session<Stream>::on_body(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return on_read_error(ec, http_timeout::body);
    dispatch();
}

template <class Stream>
void http_session<Stream>::on_read_error(beast::error_code ec, http_timeout phase) {
    // Expected endings first: the client closed between requests, or stop() closed us.
    if (ec == beast::http::error::end_of_stream) return do_close();
    if (ec == asio::error::operation_aborted) return;
    if (ec == beast::error::timeout) {
        // tcp_stream has closed the socket: there is nobody to answer.
        log().debug("{}: {} not received within its bound; connection closed", to_string(remote_),
                    phase == http_timeout::header ? "header section" : "body");
        listener_->timed_out(phase);
        return;
    }
    log().debug("read from {}: {}", to_string(remote_), ec.message());
    // Answers to requests we will not serve. Each closes the connection afterwards: the rest
    // of the request is unread, so the stream cannot be resynchronised.
    if (ec == beast::http::error::body_limit)
        return send_error(beast::http::status::payload_too_large, "request body too large\n");
    if (ec == beast::http::error::header_limit)
        return send_error(beast::http::status::request_header_fields_too_large,  // RFC 6585 §5
                          "request header fields too large\n");
    if (ec != beast::http::error::partial_message && is_parse_error(ec))
        return send_error(beast::http::status::bad_request, "bad request\n");
    // Otherwise a reset, a TLS error, or the client closed mid-request: nobody is left to answer.
}

template <class Stream>
void http_session<Stream>::dispatch() {
    const auto& req = parser_->get();
    const std::string_view target = req.target();
    const std::size_t question = target.find('?');
    const std::string_view path = target.substr(0, question);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

    const route_match match = listener_->find(req.method(), path);
    if (match.handler == nullptr) {
        if (match.allow.empty())
            return send({.status = beast::http::status::not_found, .body = "not found\n"}, req.version(),
                        req.keep_alive());
        response r{.status = beast::http::status::method_not_allowed, .body = "method not allowed\n"};
        r.headers.set(beast::http::field::allow, match.allow);
        return send(std::move(r), req.version(), req.keep_alive());
    }
    const request view{.method = req.method(),
                       .target = target,
                       .path = path,
                       .query = query,
                       .rest = match.rest,
                       .body = req.body(),
                       .headers = req.base(),
                       .remote = remote_};
    if (const auto* async = std::get_if<async_route_handler>(match.handler)) return start_async(*async, view);

    response r{.status = beast::http::status::internal_server_error, .body = "internal server error\n"};
    try {
        r = std::get<route_handler>(*match.handler)(view);
    } catch (const std::exception& e) {
        log().error("{} {}: handler failed: {}", std::string_view(req.method_string()), path, e.what());
    } catch (...) {
        log().error("{} {}: handler failed with a non-standard exception", std::string_view(req.method_string()),
                    path);
    }
    send(std::move(r), req.version(), req.keep_alive());
}

template <class Stream>
void http_session<Stream>::start_async(const async_route_handler& handler, const request& req) {
    const std::uint64_t id = ++requests_;
    awaiting_ = id;
    awaiting_version_ = parser_->get().version();
    awaiting_keep_alive_ = parser_->get().keep_alive();
    awaiting_what_ = std::string(beast::http::to_string(req.method)) + ' ' + std::string(req.path);
    answer_timer_.expires_after(options().answer_timeout);
    answer_timer_.async_wait(beast::bind_front_handler(&self::on_answer_timeout, this->shared_from_this(), id));

    // Only a weak reference leaves this thread: the session is owned on its own executor.
    std::weak_ptr<self> weak = this->weak_from_this();
    const responder done(std::make_shared<pending_answer>(
        listener_->gate(), [weak, id](response r, bool abandoned) {
            if (auto s = weak.lock()) s->on_answer(id, std::move(r), abandoned);
        }));
    try {
        handler(req, done);
    } catch (const std::exception& e) {
        log().error("{}: handler failed: {}", awaiting_what_, e.what());
        done(response{.status = beast::http::status::internal_server_error, .body = "internal server error\n"});
    } catch (...) {
        log().error("{}: handler failed with a non-standard exception", awaiting_what_);
        done(response{.status = beast::http::status::internal_server_error, .body = "internal server error\n"});
    }
}

template <class Stream>
void http_session<Stream>::on_answer(std::uint64_t id, response r, bool abandoned) {
    // A stale answer: its request timed out (503 sent) or the session moved on.
    if (id != awaiting_) return;
    awaiting_ = 0;
    answer_timer_.cancel();
    if (abandoned) log().error("{}: the handler dropped the request unanswered; 500 sent", awaiting_what_);
    send(std::move(r), awaiting_version_, awaiting_keep_alive_);
}

template <class Stream>
void http_session<Stream>::on_answer_timeout(std::uint64_t id, beast::error_code ec) {
    if (ec || id != awaiting_) return;  // answered, or close()
    awaiting_ = 0;
    listener_->timed_out(http_timeout::answer);
    log().warn("{}: no answer within {} s; 503 sent", awaiting_what_, whole_seconds(options().answer_timeout));
    // The answer may still come and its change take effect: say so, and close, so the client
    // does not mistake a later answer for this request's.
    send(response{.status = beast::http::status::service_unavailable,
                  .body = "not answered in time; the request may still take effect\n"},
         awaiting_version_, false);
}

template <class Stream>
void http_session<Stream>::send(response r, unsigned version, bool keep_alive) {
    response_ = beast::http::response<beast::http::string_body>(r.status, version);
    for (const auto& field : r.headers) response_.insert(field.name_string(), field.value());
    if (!r.content_type.empty()) response_.set(beast::http::field::content_type, r.content_type);
    response_.body() = std::move(r.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    // A client that stops reading must not hold the session forever either.
    lowest().expires_after(options().write_timeout);
    beast::http::async_write(stream_, response_,
                             beast::bind_front_handler(&self::on_write, this->shared_from_this(), keep_alive));
}

template <class Stream>
void http_session<Stream>::send_error(beast::http::status status, std::string body) {
    send(response{.status = status, .body = std::move(body)}, 11, false);
}

template <class Stream>
void http_session<Stream>::on_write(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == beast::error::timeout) {
        log().debug("{}: the answer was not taken within its bound; connection closed", to_string(remote_));
        listener_->timed_out(http_timeout::write);
        return;
    }
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
        log().debug("write to {}: {}", to_string(remote_), ec.message());
        return;
    }
    if (!keep_alive) return do_close();
    read_request(false);
}

template <class Stream>
void http_session<Stream>::do_close() {
    // The timeout, set once here, bounds the whole closing exchange.
    lowest().expires_after(options().write_timeout);
    if constexpr (is_tls) {
        // RFC 8446 §6.1: close_notify before closing. The socket closes when the session ends.
        stream_.async_shutdown([s = this->shared_from_this()](beast::error_code) {});
    } else {
        // RFC 9112 §9.6: close in stages. Send our FIN, then read and discard until the client
        // closes too. Closing with unread request bytes (an oversized body) would make the
        // kernel send a reset, which can destroy the response before the client reads it.
        beast::error_code ignored;
        lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
        do_drain();
    }
}

template <class Stream>
void http_session<Stream>::do_drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(4096),
                            beast::bind_front_handler(&self::on_drain, this->shared_from_this()));
}

template <class Stream>
void http_session<Stream>::on_drain(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return;  // the client's FIN (end of file), the timeout, or stop(): all are the end
    do_drain();
}

}  // namespace

std::shared_ptr<session_base> make_plain_session(tcp::socket socket, std::shared_ptr<http_listener> listener,
                                                 tcp::endpoint remote) {
    return std::make_shared<http_session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)),
                                                             std::move(listener), remote);
}

std::shared_ptr<session_base> make_tls_session(tcp::socket socket, asio::ssl::context& tls,
                                               std::shared_ptr<http_listener> listener, tcp::endpoint remote) {
    using tls_stream = beast::ssl_stream<beast::tcp_stream>;
    return std::make_shared<http_session<tls_stream>>(tls_stream(beast::tcp_stream(std::move(socket)), tls),
                                                      std::move(listener), remote);
}

}  // namespace b2b::http::detail
