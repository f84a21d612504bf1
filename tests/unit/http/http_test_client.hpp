// Test helpers: a Beast HTTP/1.1 client run as C++20 coroutines on the test's io_context.
#pragma once

#include "http/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace b2b::http::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

using client_request = beast::http::request<beast::http::string_body>;
using client_response = beast::http::response<beast::http::string_body>;

/// Bounds every test's event loop. Generous: it only matters when something hangs.
inline constexpr std::chrono::seconds deadline{10};

inline tcp::endpoint loopback_any_port() { return {asio::ip::make_address_v4("127.0.0.1"), 0}; }

/// An HTTP/1.1 request with Host set and, when there is a body, Content-Length.
inline client_request make_request(beast::http::verb method, std::string target,
                                   std::string body = {}) {
    client_request req{method, target, 11};
    req.set(beast::http::field::host, "127.0.0.1");
    if (!body.empty()) {
        req.body() = std::move(body);
        req.prepare_payload();
    }
    return req;
}

/// One real TCP connection to the server under test. Use it from a coroutine spawned on the
/// same io_context as the server; the server runs while the client awaits.
class http_client {
public:
    explicit http_client(const asio::any_io_executor& ex) : stream_(ex) {}

    asio::awaitable<void> connect(tcp::endpoint server) {
        co_await stream_.async_connect(server, asio::use_awaitable);
    }

    /// Connects from `source` (any port), e.g. 127.0.0.5, to look like another client.
    asio::awaitable<void> connect_from(asio::ip::address source, tcp::endpoint server) {
        stream_.socket().open(server.protocol());
        stream_.socket().bind(tcp::endpoint(source, 0));
        co_await stream_.async_connect(server, asio::use_awaitable);
    }

    asio::awaitable<void> send(client_request req) {
        co_await beast::http::async_write(stream_, req, asio::use_awaitable);
    }

    asio::awaitable<void> send_raw(std::string bytes) {
        co_await asio::async_write(stream_, asio::buffer(bytes), asio::use_awaitable);
    }

    asio::awaitable<client_response> receive() {
        client_response res;
        co_await beast::http::async_read(stream_, buffer_, res, asio::use_awaitable);
        co_return res;
    }

    asio::awaitable<client_response> round_trip(client_request req) {
        co_await send(std::move(req));
        co_return co_await receive();
    }

    /// Reads one more byte and returns the read's error: end of file when the server closed
    /// the connection cleanly, no error when it sent something instead.
    asio::awaitable<beast::error_code> wait_closed() {
        if (buffer_.size() != 0) co_return beast::error_code();  // already received more
        char byte = 0;
        auto [ec, n] = co_await stream_.async_read_some(asio::buffer(&byte, 1),
                                                        asio::as_tuple(asio::use_awaitable));
        co_return ec;
    }

    beast::tcp_stream& stream() { return stream_; }

private:
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
};

/// Runs `client` on `ioc` alongside `server`, then stops the server. Returns what the client
/// returned; throws what it threw, or std::runtime_error when it did not finish within the
/// deadline or the loop still had work after stop() (a session that stop() failed to close).
template <class T>
T run_client(asio::io_context& ioc, http_server& server, asio::awaitable<T> client) {
    std::optional<T> result;
    std::exception_ptr error;
    asio::co_spawn(ioc, std::move(client), [&](std::exception_ptr e, T value) {
        error = e;
        if (!e) result = std::move(value);
        server.stop();
    });
    ioc.run_for(deadline);
    if (error) std::rethrow_exception(error);
    if (!result) throw std::runtime_error("the client did not finish within the deadline");
    // run_for returns early, with the context stopped, only when it runs out of work.
    if (!ioc.stopped()) throw std::runtime_error("the event loop still had work after stop()");
    return std::move(*result);
}

}  // namespace b2b::http::test
