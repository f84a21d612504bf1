// Tests of async routes: answered from another thread (as the admin API answers from the SIP
// loop), a responder dropped unanswered, an answer too late, a connection closed meanwhile.
#include "http/http_server.hpp"

#include "tests/unit/http/http_test_client.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace b2b::http {
namespace {

using namespace test;

std::string this_thread_id() {
    std::ostringstream out;
    out << std::this_thread::get_id();
    return out.str();
}

/// Another thread with an event loop of its own, standing in for the SIP loop.
class worker_thread {
public:
    worker_thread() : thread_([this] { ioc_.run(); }) {}
    ~worker_thread() {
        work_.reset();
        thread_.join();
    }
    worker_thread(const worker_thread&) = delete;
    worker_thread& operator=(const worker_thread&) = delete;

    asio::io_context& context() { return ioc_; }

private:
    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ioc_);
    std::thread thread_;
};

class http_async_route_test : public ::testing::Test {
protected:
    http_server& start(http_server_options options = {}) {
        server_.emplace(ioc_.get_executor(), loopback_any_port(), std::move(options));
        server_->add_route(beast::http::verb::get, "/hello",
                           [](const request&) { return response{.body = "hello\n"}; });
        return *server_;
    }
    void listen() {
        const auto ec = server_->start();
        ASSERT_FALSE(ec) << ec.message();
    }

    template <class T>
    T run(asio::awaitable<T> client) {
        return run_client(ioc_, *server_, std::move(client));
    }

    /// Sends `reqs` one after the other on one connection.
    std::vector<client_response> send_all(std::vector<client_request> reqs) {
        return run([](tcp::endpoint server, std::vector<client_request> to_send)
                       -> asio::awaitable<std::vector<client_response>> {
            http_client c(co_await asio::this_coro::executor);
            co_await c.connect(server);
            std::vector<client_response> got;
            for (auto& req : to_send) got.push_back(co_await c.round_trip(std::move(req)));
            co_return got;
        }(server_->local_endpoint(), std::move(reqs)));
    }

    asio::io_context ioc_;
    std::optional<http_server> server_;
};

TEST_F(http_async_route_test, answer_comes_from_another_thread) {
    worker_thread sip_loop;
    std::string handler_thread;
    start().add_async_route(beast::http::verb::post, "/api/echo", [&](const request& req, responder done) {
        handler_thread = this_thread_id();
        // The request's views die when the handler returns: copy what the answer needs.
        asio::post(sip_loop.context(), [done, body = std::string(req.body), remote = req.remote] {
            done(response{.status = beast::http::status::created,
                          .content_type = "application/json",
                          .body = body + " from " + remote.address().to_string() + " on " + this_thread_id()});
        });
    });
    listen();
    const auto r = send_all({make_request(beast::http::verb::post, "/api/echo", "{}"),
                             make_request(beast::http::verb::get, "/hello")});
    ASSERT_EQ(r.size(), 2U);
    EXPECT_EQ(r[0].result(), beast::http::status::created);
    EXPECT_EQ(r[0][beast::http::field::content_type], "application/json");
    EXPECT_TRUE(r[0].keep_alive());
    EXPECT_EQ(handler_thread, this_thread_id());
    const std::string prefix = "{} from 127.0.0.1 on ";
    EXPECT_TRUE(r[0].body().starts_with(prefix)) << r[0].body();
    EXPECT_NE(r[0].body(), prefix + this_thread_id());
    // The keep-alive connection serves the next request after the async answer.
    EXPECT_EQ(r[1].body(), "hello\n");
}

TEST_F(http_async_route_test, only_the_first_answer_counts) {
    start().add_async_route(beast::http::verb::get, "/twice", [](const request&, const responder& done) {
        const responder copy = done;
        copy(response{.body = "first\n"});
        done(response{.body = "second\n"});
    });
    listen();
    const auto r = send_all({make_request(beast::http::verb::get, "/twice"),
                             make_request(beast::http::verb::get, "/hello")});
    ASSERT_EQ(r.size(), 2U);
    EXPECT_EQ(r[0].body(), "first\n");
    EXPECT_EQ(r[1].body(), "hello\n");
}

TEST_F(http_async_route_test, responder_dropped_unanswered_yields_500) {
    worker_thread sip_loop;
    start().add_async_route(beast::http::verb::get, "/dropped", [&](const request&, responder done) {
        // The function that would answer is discarded on the other thread without calling it.
        asio::post(sip_loop.context(), [done = std::move(done)] { (void)done; });
    });
    listen();
    const auto r = send_all({make_request(beast::http::verb::get, "/dropped"),
                             make_request(beast::http::verb::get, "/hello")});
    ASSERT_EQ(r.size(), 2U);
    EXPECT_EQ(r[0].result(), beast::http::status::internal_server_error);
    EXPECT_EQ(r[1].body(), "hello\n");
}

TEST_F(http_async_route_test, throwing_async_handler_yields_500) {
    start().add_async_route(beast::http::verb::get, "/boom", [](const request&, const responder&) {
        throw std::runtime_error("boom");
    });
    listen();
    const auto r = send_all({make_request(beast::http::verb::get, "/boom")});
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0].result(), beast::http::status::internal_server_error);
}

/// Counts what an http_server reports.
struct counting_observer : http_observer {
    void on_connection_refused(connection_refusal why) override { refused.push_back(why); }
    void on_timeout(http_timeout which) override { timeouts.push_back(which); }
    std::vector<connection_refusal> refused;
    std::vector<http_timeout> timeouts;
};

TEST_F(http_async_route_test, no_answer_in_time_is_503_and_a_late_answer_is_dropped) {
    counting_observer observer;
    std::optional<responder> kept;
    start({.answer_timeout = std::chrono::milliseconds(20)})
        .add_async_route(beast::http::verb::get, "/slow", [&](const request&, responder done) { kept = done; });
    server_->set_observer(&observer);
    listen();
    const auto got = run([](tcp::endpoint server) -> asio::awaitable<std::pair<client_response, beast::error_code>> {
        http_client c(co_await asio::this_coro::executor);
        co_await c.connect(server);
        client_response res = co_await c.round_trip(make_request(beast::http::verb::get, "/slow"));
        co_return std::pair{std::move(res), co_await c.wait_closed()};
    }(server_->local_endpoint()));
    EXPECT_EQ(got.first.result(), beast::http::status::service_unavailable);
    EXPECT_FALSE(got.first.keep_alive());
    EXPECT_EQ(got.second, asio::error::eof);
    EXPECT_EQ(observer.timeouts, std::vector<http_timeout>{http_timeout::answer});
    // The answer that comes now finds no request waiting for it: nothing is sent, nothing runs.
    ASSERT_TRUE(kept.has_value());
    (*kept)(response{.body = "too late\n"});
    ioc_.restart();
    EXPECT_EQ(ioc_.poll(), 1U);  // the posted answer, dropped
}

TEST_F(http_async_route_test, stop_closes_a_connection_waiting_for_its_answer) {
    std::optional<responder> kept;
    // The answer bound far beyond the deadline: only stop() ends the wait in time.
    start({.answer_timeout = std::chrono::hours(1)})
        .add_async_route(beast::http::verb::get, "/never", [&](const request&, responder done) { kept = done; });
    listen();
    // The client gives up on an answer after a while; run_client then stops the server and
    // requires the loop to run out of work, which the waiting session would prevent.
    const bool answered = run([](tcp::endpoint server) -> asio::awaitable<bool> {
        http_client c(co_await asio::this_coro::executor);
        co_await c.connect(server);
        co_await c.send(make_request(beast::http::verb::get, "/never"));
        asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::use_awaitable);
        co_return c.stream().socket().available() != 0;
    }(server_->local_endpoint()));
    EXPECT_FALSE(answered);
    EXPECT_EQ(server_->session_count(), 0U);
    // Answering a closed session posts the answer, which finds the session gone.
    ASSERT_TRUE(kept.has_value());
    (*kept)(response{.body = "after stop\n"});
    ioc_.restart();
    EXPECT_EQ(ioc_.poll(), 1U);
}

TEST_F(http_async_route_test, responder_outliving_the_server_does_nothing) {
    std::optional<responder> kept;
    start().add_async_route(beast::http::verb::get, "/never",
                            [&](const request&, responder done) { kept = done; });
    listen();
    run([](tcp::endpoint server) -> asio::awaitable<bool> {
        http_client c(co_await asio::this_coro::executor);
        co_await c.connect(server);
        co_await c.send(make_request(beast::http::verb::get, "/never"));
        asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
        co_await pause.async_wait(asio::use_awaitable);
        co_return true;
    }(server_->local_endpoint()));
    ASSERT_TRUE(kept.has_value());
    server_.reset();
    ioc_.restart();
    ioc_.poll();
    // Neither the answer nor the 500 of its destruction is posted to the server's executor,
    // whose context may be gone once the server is.
    (*kept)(response{.body = "after the server\n"});
    kept.reset();
    EXPECT_EQ(ioc_.poll(), 0U);
}

}  // namespace
}  // namespace b2b::http
