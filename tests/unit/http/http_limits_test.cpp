// Tests of the HTTP server's budgets and bounds: connections per client address, the header
// section trickled a byte at a time, a body that stops, a client that does not read.
#include "http/http_server.hpp"

#include "tests/unit/http/http_test_client.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace b2b::http {
namespace {

using namespace test;

/// Counts what an http_server reports.
struct counting_observer : http_observer {
    void on_connection_refused(connection_refusal why) override { refused.push_back(why); }
    void on_timeout(http_timeout which) override { timeouts.push_back(which); }
    std::vector<connection_refusal> refused;
    std::vector<http_timeout> timeouts;
};

asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

class http_limits_test : public ::testing::Test {
protected:
    http_server& start(http_server_options options) {
        server_.emplace(ioc_.get_executor(), loopback_any_port(), std::move(options));
        server_->add_route(beast::http::verb::get, "/hello",
                           [](const request&) { return response{.body = "hello\n"}; });
        server_->add_route(beast::http::verb::get, "/big",
                           [](const request&) { return response{.body = std::string(std::size_t{32} << 20, 'x')}; });
        server_->set_observer(&observer_);
        const auto ec = server_->start();
        EXPECT_FALSE(ec) << ec.message();
        return *server_;
    }
    tcp::endpoint endpoint() const { return server_->local_endpoint(); }

    template <class T>
    T run(asio::awaitable<T> client) {
        return run_client(ioc_, *server_, std::move(client));
    }

    asio::io_context ioc_;
    counting_observer observer_;
    std::optional<http_server> server_;
};

const asio::ip::address crowd = asio::ip::make_address("127.0.0.5");
const asio::ip::address other = asio::ip::make_address("127.0.0.6");

/// What per_source_limit_refuses_the_17th_connection observes.
struct budget_outcome {
    std::size_t held_answered = 0;         // of the 16 connections from 127.0.0.5
    beast::error_code seventeenth_ended;   // how the 17th from 127.0.0.5 ended
    std::string other_answer;              // 127.0.0.6, while 127.0.0.5 holds 16
    std::string after_one_left;            // 127.0.0.5 again, once one of its 16 closed
};

asio::awaitable<budget_outcome> crowd_and_other(http_server& server) {
    const auto ex = co_await asio::this_coro::executor;
    const auto at = server.local_endpoint();
    budget_outcome out;
    std::vector<std::unique_ptr<http_client>> held;
    for (int i = 0; i < 16; ++i) {
        held.push_back(std::make_unique<http_client>(ex));
        co_await held.back()->connect_from(crowd, at);
        // Answered, so accepted and counted before the next one connects.
        const auto res = co_await held.back()->round_trip(make_request(beast::http::verb::get, "/hello"));
        out.held_answered += res.result() == beast::http::status::ok;
    }
    http_client seventeenth(ex);
    co_await seventeenth.connect_from(crowd, at);
    out.seventeenth_ended = co_await seventeenth.wait_closed();

    http_client o(ex);
    co_await o.connect_from(other, at);
    out.other_answer = (co_await o.round_trip(make_request(beast::http::verb::get, "/hello"))).body();

    // One of the 16 leaves; once the server has seen it go, the address may connect again.
    const std::size_t open = server.stats().open;
    held.front()->stream().close();
    for (int i = 0; i < 500 && server.stats().open != open - 1; ++i) co_await pause(std::chrono::milliseconds(10));
    http_client again(ex);
    co_await again.connect_from(crowd, at);
    out.after_one_left = (co_await again.round_trip(make_request(beast::http::verb::get, "/hello"))).body();
    co_return out;
}

TEST_F(http_limits_test, per_source_limit_refuses_the_17th_connection_and_serves_other_addresses) {
    auto& server = start({.max_sessions_per_source = 16, .idle_timeout = std::chrono::hours(1)});
    const auto got = run(crowd_and_other(server));
    EXPECT_EQ(got.held_answered, 16U);
    EXPECT_EQ(got.seventeenth_ended, asio::error::eof);
    EXPECT_EQ(got.other_answer, "hello\n");
    EXPECT_EQ(got.after_one_left, "hello\n");
    EXPECT_EQ(observer_.refused, std::vector<connection_refusal>{connection_refusal::source_limit});
    EXPECT_EQ(server.stats().refused_source_limit, 1U);
    EXPECT_EQ(server.stats().refused_max_connections, 0U);
}

TEST_F(http_limits_test, per_source_limit_0_leaves_only_the_total) {
    auto& server = start({.max_sessions = 20, .max_sessions_per_source = 0, .idle_timeout = std::chrono::hours(1)});
    const std::size_t answered = run([](tcp::endpoint at) -> asio::awaitable<std::size_t> {
        const auto ex = co_await asio::this_coro::executor;
        std::vector<std::unique_ptr<http_client>> held;
        std::size_t ok = 0;
        for (int i = 0; i < 20; ++i) {
            held.push_back(std::make_unique<http_client>(ex));
            co_await held.back()->connect_from(crowd, at);
            const auto res = co_await held.back()->round_trip(make_request(beast::http::verb::get, "/hello"));
            ok += res.result() == beast::http::status::ok;
        }
        co_return ok;
    }(server.local_endpoint()));
    EXPECT_EQ(answered, 20U);
    EXPECT_TRUE(observer_.refused.empty());
}

/// How a client trickling its header section a byte at a time fared.
struct trickle_outcome {
    std::size_t sent = 0;           // bytes of the padding sent before the server cut us
    bool cut = false;               // a write failed: the server had closed the connection
    std::optional<unsigned> status; // the answer, had the server waited for the whole header
};

asio::awaitable<trickle_outcome> trickle(tcp::endpoint server, std::size_t padding) {
    http_client c(co_await asio::this_coro::executor);
    co_await c.connect_from(crowd, server);
    trickle_outcome out;
    co_await c.send_raw("GET /hello HTTP/1.1\r\nHost: x\r\nX-Padding: ");
    for (; out.sent < padding; ++out.sent) {
        co_await pause(std::chrono::milliseconds(20));
        auto [ec, n] = co_await asio::async_write(c.stream(), asio::buffer("a", 1), asio::as_tuple(asio::use_awaitable));
        if (ec) {
            out.cut = true;
            co_return out;
        }
    }
    co_await c.send_raw("\r\n\r\n");
    out.status = (co_await c.receive()).result_int();
    co_return out;
}

TEST_F(http_limits_test, header_section_trickled_a_byte_at_a_time_is_cut_at_the_header_timeout) {
    // 400 bytes at one per 20 ms would take 8 s; the header bound is a fraction of that.
    start({.header_timeout = std::chrono::milliseconds(200)});
    const auto got = run(trickle(endpoint(), 400));
    EXPECT_TRUE(got.cut);
    EXPECT_LT(got.sent, 400U);
    EXPECT_FALSE(got.status.has_value());
    EXPECT_EQ(observer_.timeouts, std::vector<http_timeout>{http_timeout::header});
}

TEST_F(http_limits_test, body_that_stops_is_cut_at_the_body_timeout) {
    start({.body_timeout = std::chrono::milliseconds(20)});
    const auto end = run([](tcp::endpoint server) -> asio::awaitable<beast::error_code> {
        http_client c(co_await asio::this_coro::executor);
        co_await c.connect(server);
        co_await c.send_raw("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
        co_return co_await c.wait_closed();
    }(endpoint()));
    EXPECT_EQ(end, asio::error::eof);
    EXPECT_EQ(observer_.timeouts, std::vector<http_timeout>{http_timeout::body});
}

TEST_F(http_limits_test, client_that_does_not_read_is_cut_at_the_write_timeout) {
    start({.write_timeout = std::chrono::milliseconds(50)});
    // 32 MiB asked for and never read: more than the socket buffers hold, so the write stalls.
    const bool cut = run([](tcp::endpoint server, const counting_observer& seen) -> asio::awaitable<bool> {
        http_client c(co_await asio::this_coro::executor);
        co_await c.connect(server);
        co_await c.send(make_request(beast::http::verb::get, "/big"));
        for (int i = 0; i < 500 && seen.timeouts.empty(); ++i) co_await pause(std::chrono::milliseconds(10));
        co_return !seen.timeouts.empty();
    }(endpoint(), observer_));
    EXPECT_TRUE(cut);
    EXPECT_EQ(observer_.timeouts, std::vector<http_timeout>{http_timeout::write});
}

}  // namespace
}  // namespace b2b::http
