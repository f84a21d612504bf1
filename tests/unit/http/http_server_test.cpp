// Tests of http::http_server over real 127.0.0.1 sockets, with a Beast client on one io_context.
#include "http/http_server.hpp"

#include "tests/unit/http/http_test_client.hpp"

#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace b2b::http {
namespace {

using namespace test;
using responses = std::vector<client_response>;

/// One connection, and the responses to `reqs` sent one after the other on it.
asio::awaitable<responses> on_one_connection(tcp::endpoint server,
                                             std::vector<client_request> reqs) {
    http_client c(co_await asio::this_coro::executor);
    co_await c.connect(server);
    responses r;
    for (auto& req : reqs) r.push_back(co_await c.round_trip(std::move(req)));
    co_return r;
}

/// A response to raw bytes, and how the server then ended the connection.
using answer_and_end = std::pair<client_response, beast::error_code>;

/// For each of `raws`, on a connection of its own: the response, and how the connection ended.
asio::awaitable<std::vector<answer_and_end>> raw_requests(tcp::endpoint server,
                                                          std::vector<std::string> raws) {
    std::vector<answer_and_end> got;
    for (auto& raw : raws) {
        http_client c(co_await asio::this_coro::executor);
        co_await c.connect(server);
        co_await c.send_raw(std::move(raw));
        client_response res = co_await c.receive();
        got.emplace_back(std::move(res), co_await c.wait_closed());
    }
    co_return got;
}

client_request get_request(std::string target) {
    return make_request(beast::http::verb::get, std::move(target));
}

class http_server_test : public ::testing::Test {
protected:
    /// Makes and starts the server, with GET /hello answering "hello\n".
    http_server& start(http_server_options options = {}) {
        server_.emplace(ioc_.get_executor(), loopback_any_port(), options);
        server_->add_route(beast::http::verb::get, "/hello",
                           [](const request&) { return response{.body = "hello\n"}; });
        const auto ec = server_->start();
        EXPECT_FALSE(ec) << ec.message();
        return *server_;
    }

    tcp::endpoint endpoint() const { return server_->local_endpoint(); }

    template <class T>
    T run(asio::awaitable<T> client) {
        return run_client(ioc_, *server_, std::move(client));
    }

    /// Sends `reqs` on one connection.
    responses send_all(std::vector<client_request> reqs) {
        return run(on_one_connection(endpoint(), std::move(reqs)));
    }
    client_response send(client_request req) {
        return std::move(send_all({std::move(req)}).at(0));
    }

    asio::io_context ioc_;
    std::optional<http_server> server_;
};

TEST_F(http_server_test, binds_a_free_port_on_loopback) {
    start();
    EXPECT_EQ(endpoint().address(), asio::ip::make_address("127.0.0.1"));
    EXPECT_NE(endpoint().port(), 0);
    const auto res = send(get_request("/hello"));
    EXPECT_EQ(res.result(), beast::http::status::ok);
    EXPECT_EQ(res.body(), "hello\n");
    EXPECT_EQ(res[beast::http::field::content_type], "text/plain; charset=utf-8");
}

TEST_F(http_server_test, start_reports_a_port_in_use_and_a_second_start) {
    auto& first = start();
    http_server second(ioc_.get_executor(), endpoint());
    EXPECT_EQ(second.start(), asio::error::address_in_use);
    EXPECT_EQ(first.start(), asio::error::already_open);
}

TEST_F(http_server_test, handler_sees_the_request_and_shapes_the_response) {
    start().add_route(beast::http::verb::post, "/echo", [](const request& req) {
        response res{.status = beast::http::status::created, .content_type = "application/json"};
        res.body = std::string(beast::http::to_string(req.method)) + '|' + std::string(req.target) +
                   '|' + std::string(req.path) + '|' + std::string(req.query) + '|' +
                   std::string(req.body) + '|' + std::string(req.headers["X-Test"]);
        res.headers.set(beast::http::field::location, "/echo/1");
        return res;
    });
    auto req = make_request(beast::http::verb::post, "/echo?x=1&y=2", "{\"a\":1}");
    req.set("X-Test", "42");
    const auto res = send(std::move(req));
    EXPECT_EQ(res.result(), beast::http::status::created);
    EXPECT_EQ(res.body(), "POST|/echo?x=1&y=2|/echo|x=1&y=2|{\"a\":1}|42");
    EXPECT_EQ(res[beast::http::field::content_type], "application/json");
    EXPECT_EQ(res[beast::http::field::location], "/echo/1");
    EXPECT_EQ(res[beast::http::field::content_length], std::to_string(res.body().size()));
}

TEST_F(http_server_test, unknown_path_is_404) {
    start();
    const auto r = send_all({get_request("/nowhere"), get_request("/hello/more")});
    ASSERT_EQ(r.size(), 2U);
    EXPECT_EQ(r[0].result(), beast::http::status::not_found);
    EXPECT_EQ(r[1].result(), beast::http::status::not_found);
}

TEST_F(http_server_test, known_path_with_another_method_is_405_with_allow) {
    start().add_route(beast::http::verb::put, "/hello", [](const request&) { return response{}; });
    const auto res = send(make_request(beast::http::verb::delete_, "/hello"));
    EXPECT_EQ(res.result(), beast::http::status::method_not_allowed);
    EXPECT_EQ(res[beast::http::field::allow], "GET, PUT");
}

TEST_F(http_server_test, keep_alive_serves_two_requests_on_one_connection) {
    start();
    // on_one_connection fails with end of file if the server closed after the first.
    const auto r = send_all({get_request("/hello"), get_request("/nowhere")});
    ASSERT_EQ(r.size(), 2U);
    EXPECT_EQ(r[0].result(), beast::http::status::ok);
    EXPECT_TRUE(r[0].keep_alive());
    EXPECT_EQ(r[1].result(), beast::http::status::not_found);
    EXPECT_TRUE(r[1].keep_alive());
}

TEST_F(http_server_test, pipelined_requests_are_answered_in_order) {
    start();
    const auto r = run([](tcp::endpoint server) -> asio::awaitable<responses> {
        http_client c(co_await asio::this_coro::executor);
        co_await c.connect(server);
        co_await c.send_raw(
            "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        responses got;
        got.push_back(co_await c.receive());
        got.push_back(co_await c.receive());
        co_return got;
    }(endpoint()));
    ASSERT_EQ(r.size(), 2U);
    EXPECT_EQ(r[0].result(), beast::http::status::not_found);
    EXPECT_EQ(r[1].body(), "hello\n");
}

TEST_F(http_server_test, connection_close_and_http_1_0_end_the_connection) {
    start();
    const auto got = run(raw_requests(
        endpoint(), {"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     "GET /hello HTTP/1.0\r\n\r\n"}));
    ASSERT_EQ(got.size(), 2U);
    for (const auto& [res, end] : got) {
        EXPECT_EQ(res.body(), "hello\n");
        EXPECT_FALSE(res.keep_alive());
        EXPECT_EQ(end, asio::error::eof);
    }
    EXPECT_EQ(got[1].first.version(), 10U);
}

TEST_F(http_server_test, malformed_request_is_400_and_closes) {
    start();
    const auto got = run(raw_requests(endpoint(),
                                      {"\x01\x02 garbage\r\n\r\n",
                                       "GET /hello HTTP/1.1\r\nNo colon\r\n\r\n",
                                       "GET /hello HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                                       "GET /hello HTTP/2.5\r\n\r\n"}));
    ASSERT_EQ(got.size(), 4U);
    for (const auto& [res, end] : got) {
        EXPECT_EQ(res.result(), beast::http::status::bad_request);
        EXPECT_FALSE(res.keep_alive());
        EXPECT_EQ(end, asio::error::eof);
    }
}

TEST_F(http_server_test, header_section_over_the_limit_is_431) {
    start();
    const auto got = run(raw_requests(
        endpoint(), {"GET /hello HTTP/1.1\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n"}));
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].first.result(), beast::http::status::request_header_fields_too_large);
    EXPECT_EQ(got[0].second, asio::error::eof);
}

TEST_F(http_server_test, body_limit_is_inclusive_and_larger_bodies_get_413) {
    start({.body_limit = 16}).add_route(beast::http::verb::put, "/echo", [](const request& req) {
        return response{.body = std::string(req.body)};
    });
    const auto got = run(raw_requests(
        endpoint(),
        {"PUT /echo HTTP/1.1\r\nConnection: close\r\nContent-Length: 16\r\n\r\n0123456789abcdef",
         "PUT /echo HTTP/1.1\r\nContent-Length: 17\r\n\r\n0123456789abcdefg"}));
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(got[0].first.result(), beast::http::status::ok);
    EXPECT_EQ(got[0].first.body(), "0123456789abcdef");
    EXPECT_EQ(got[1].first.result(), beast::http::status::payload_too_large);
    EXPECT_FALSE(got[1].first.keep_alive());
    EXPECT_EQ(got[1].second, asio::error::eof);
}

TEST_F(http_server_test, oversized_body_gets_413_after_the_client_sent_it_all) {
    // The server rejects on Content-Length (default limit 1 MiB) and must read and discard the
    // body it never parses: with more unread than the kernel buffers hold, closing at once
    // would fail the client's write with a reset before it ever reads the 413.
    start().add_route(beast::http::verb::post, "/upload",
                      [](const request&) { return response{}; });
    const auto res = send(make_request(beast::http::verb::post, "/upload",
                                       std::string(std::size_t{16} << 20, 'x')));
    EXPECT_EQ(res.result(), beast::http::status::payload_too_large);
}

TEST_F(http_server_test, prefix_route_receives_the_rest_of_the_path) {
    auto& server = start();
    server.add_route(beast::http::verb::get, "/api/v1/trunks/*",
                     [](const request& req) { return response{.body = std::string(req.rest)}; });
    server.add_route(beast::http::verb::get, "/api/*",
                     [](const request&) { return response{.body = "short prefix"}; });
    server.add_route(beast::http::verb::get, "/api/v1/trunks/special",
                     [](const request&) { return response{.body = "exact"}; });

    const auto r = send_all({get_request("/api/v1/trunks/acme?verbose=1"),
                         get_request("/api/v1/trunks/"), get_request("/api/v1/trunks/special"),
                         get_request("/api/v1/other"),
                         make_request(beast::http::verb::post, "/api/v1/trunks/acme")});
    ASSERT_EQ(r.size(), 5U);
    EXPECT_EQ(r[0].body(), "acme");
    EXPECT_EQ(r[1].result(), beast::http::status::ok);
    EXPECT_EQ(r[1].body(), "");
    EXPECT_EQ(r[2].body(), "exact");
    EXPECT_EQ(r[3].body(), "short prefix");
    EXPECT_EQ(r[4].result(), beast::http::status::method_not_allowed);
    EXPECT_EQ(r[4][beast::http::field::allow], "GET");
}

TEST_F(http_server_test, throwing_handler_yields_500_and_the_connection_stays_usable) {
    start().add_route(beast::http::verb::get, "/boom",
                      [](const request&) -> response { throw std::runtime_error("boom"); });
    const auto r = send_all({get_request("/boom"), get_request("/hello")});
    ASSERT_EQ(r.size(), 2U);
    EXPECT_EQ(r[0].result(), beast::http::status::internal_server_error);
    EXPECT_EQ(r[1].body(), "hello\n");
}

TEST_F(http_server_test, stop_closes_an_idle_keep_alive_connection) {
    // An idle timeout far beyond the deadline: only stop() can end the session in time.
    start({.idle_timeout = std::chrono::hours(1)});
    http_client held(ioc_.get_executor());
    // The client finishes with its connection open and idle; run() then calls stop() and
    // requires the loop to run out of work, which the session's pending read would prevent.
    const auto res = run(
        [](http_client& c, tcp::endpoint server) -> asio::awaitable<client_response> {
            co_await c.connect(server);
            co_return co_await c.round_trip(make_request(beast::http::verb::get, "/hello"));
        }(held, endpoint()));
    EXPECT_TRUE(res.keep_alive());
    EXPECT_EQ(server_->session_count(), 0U);

    ioc_.restart();
    const auto end = run([](http_client& c) { return c.wait_closed(); }(held));
    EXPECT_EQ(end, asio::error::eof);
}

/// What connections_over_the_limit_are_closed observes.
struct limit_outcome {
    responses first;                  // two requests on the connection that got in
    std::size_t sessions_open = 0;    // after the first request
    beast::error_code second_ended;   // how the connection over the limit ended
};

asio::awaitable<limit_outcome> two_connections(http_server& s, tcp::endpoint server) {
    const auto ex = co_await asio::this_coro::executor;
    limit_outcome out;
    http_client first(ex);
    co_await first.connect(server);
    out.first.push_back(co_await first.round_trip(make_request(beast::http::verb::get, "/hello")));
    out.sessions_open = s.session_count();
    http_client second(ex);
    co_await second.connect(server);
    out.second_ended = co_await second.wait_closed();
    out.first.push_back(co_await first.round_trip(make_request(beast::http::verb::get, "/hello")));
    co_return out;
}

TEST_F(http_server_test, connections_over_the_limit_are_closed) {
    start({.max_sessions = 1});
    const auto got = run(two_connections(*server_, endpoint()));
    EXPECT_EQ(got.sessions_open, 1U);
    EXPECT_EQ(server_->stats().refused_max_connections, 1U);
    EXPECT_EQ(server_->stats().refused_source_limit, 0U);
    EXPECT_EQ(got.second_ended, asio::error::eof);
    ASSERT_EQ(got.first.size(), 2U);
    EXPECT_EQ(got.first[0].body(), "hello\n");
    EXPECT_EQ(got.first[1].body(), "hello\n");
}

TEST_F(http_server_test, silent_connection_is_closed_after_the_header_timeout) {
    // A new connection waits for its header section, not for the (long) idle bound.
    start({.header_timeout = std::chrono::milliseconds(10), .idle_timeout = std::chrono::hours(1)});
    const auto end = run([](tcp::endpoint server) -> asio::awaitable<beast::error_code> {
        http_client c(co_await asio::this_coro::executor);
        co_await c.connect(server);
        co_return co_await c.wait_closed();
    }(endpoint()));
    EXPECT_EQ(end, asio::error::eof);
}

TEST_F(http_server_test, idle_keep_alive_connection_is_closed_after_the_idle_timeout) {
    // A header bound beyond the deadline: only the idle bound can close the connection in time.
    start({.header_timeout = std::chrono::hours(1), .idle_timeout = std::chrono::milliseconds(10)});
    const auto got = run([](tcp::endpoint server) -> asio::awaitable<answer_and_end> {
        http_client c(co_await asio::this_coro::executor);
        co_await c.connect(server);
        client_response res = co_await c.round_trip(make_request(beast::http::verb::get, "/hello"));
        co_return answer_and_end{std::move(res), co_await c.wait_closed()};
    }(endpoint()));
    EXPECT_EQ(got.first.body(), "hello\n");
    EXPECT_TRUE(got.first.keep_alive());
    EXPECT_EQ(got.second, asio::error::eof);
}

TEST_F(http_server_test, handler_sees_the_client_address) {
    start().add_route(beast::http::verb::get, "/whoami", [](const request& req) {
        return response{.body = req.remote.address().to_string() + ' ' + std::to_string(req.remote.port())};
    });
    const auto got = run([](tcp::endpoint server) -> asio::awaitable<std::pair<std::string, std::string>> {
        http_client c(co_await asio::this_coro::executor);
        co_await c.connect_from(asio::ip::make_address("127.0.0.7"), server);
        const auto local = c.stream().socket().local_endpoint();
        client_response res = co_await c.round_trip(make_request(beast::http::verb::get, "/whoami"));
        co_return std::pair{res.body(), local.address().to_string() + ' ' + std::to_string(local.port())};
    }(endpoint()));
    EXPECT_EQ(got.first, got.second);
    EXPECT_TRUE(got.first.starts_with("127.0.0.7 ")) << got.first;
}

TEST_F(http_server_test, add_route_rejects_bad_and_duplicate_routes) {
    auto& server = start();
    auto h = [](const request&) { return response{}; };
    EXPECT_THROW(server.add_route(beast::http::verb::get, "metrics", h), std::invalid_argument);
    EXPECT_THROW(server.add_route(beast::http::verb::get, "", h), std::invalid_argument);
    EXPECT_THROW(server.add_route(beast::http::verb::unknown, "/x", h), std::invalid_argument);
    EXPECT_THROW(server.add_route(beast::http::verb::get, "/hello", h), std::invalid_argument);
    EXPECT_NO_THROW(server.add_route(beast::http::verb::head, "/hello", h));
}

}  // namespace
}  // namespace b2b::http
