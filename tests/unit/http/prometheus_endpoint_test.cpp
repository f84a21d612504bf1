// Tests of add_prometheus_routes: a real scrape of a prometheus::Registry over 127.0.0.1.
#include "http/prometheus_endpoint.hpp"

#include "tests/unit/http/http_test_client.hpp"

#include <boost/asio/this_coro.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

namespace b2b::http {
namespace {

using namespace test;
using responses = std::vector<client_response>;

class prometheus_endpoint_test : public ::testing::Test {
protected:
    prometheus_endpoint_test() {
        add_prometheus_routes(server_, registry_);
        const auto ec = server_.start();
        EXPECT_FALSE(ec) << ec.message();
    }

    asio::io_context ioc_;
    std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
    prometheus::Counter& requests_ = prometheus::BuildCounter()
                                         .Name("b2bua_test_requests_total")
                                         .Help("Requests seen by the test.")
                                         .Register(*registry_)
                                         .Add({{"method", "INVITE"}});
    http_server server_{ioc_.get_executor(), loopback_any_port()};
};

TEST_F(prometheus_endpoint_test, metrics_serves_the_registry_as_of_each_scrape) {
    requests_.Increment(3);
    // The second scrape must see an increment made between the two, on the same connection.
    const auto r = run_client(
        ioc_, server_,
        [](tcp::endpoint server, prometheus::Counter& counter) -> asio::awaitable<responses> {
            http_client c(co_await asio::this_coro::executor);
            co_await c.connect(server);
            responses got;
            got.push_back(co_await c.round_trip(make_request(beast::http::verb::get, "/metrics")));
            counter.Increment();
            got.push_back(co_await c.round_trip(make_request(beast::http::verb::get, "/metrics")));
            co_return got;
        }(server_.local_endpoint(), requests_));

    ASSERT_EQ(r.size(), 2U);
    for (const auto& res : r) {
        EXPECT_EQ(res.result(), beast::http::status::ok);
        EXPECT_EQ(res[beast::http::field::content_type],
                  "text/plain; version=0.0.4; charset=utf-8");
        EXPECT_THAT(res.body(), ::testing::HasSubstr("# TYPE b2bua_test_requests_total counter\n"));
    }
    EXPECT_THAT(r[0].body(),
                ::testing::HasSubstr("\nb2bua_test_requests_total{method=\"INVITE\"} 3\n"));
    EXPECT_THAT(r[1].body(),
                ::testing::HasSubstr("\nb2bua_test_requests_total{method=\"INVITE\"} 4\n"));
}

TEST_F(prometheus_endpoint_test, healthz_is_ok_and_metrics_is_get_only) {
    const auto r = run_client(
        ioc_, server_, [](tcp::endpoint server) -> asio::awaitable<responses> {
            http_client c(co_await asio::this_coro::executor);
            co_await c.connect(server);
            responses got;
            got.push_back(co_await c.round_trip(make_request(beast::http::verb::get, "/healthz")));
            got.push_back(co_await c.round_trip(
                make_request(beast::http::verb::post, "/metrics", "x")));
            co_return got;
        }(server_.local_endpoint()));

    ASSERT_EQ(r.size(), 2U);
    EXPECT_EQ(r[0].result(), beast::http::status::ok);
    EXPECT_EQ(r[0].body(), "ok\n");
    EXPECT_EQ(r[1].result(), beast::http::status::method_not_allowed);
    EXPECT_EQ(r[1][beast::http::field::allow], "GET");
}

TEST(prometheus_endpoint, healthz_says_503_with_the_reason_while_the_health_check_gives_one) {
    asio::io_context ioc;
    http_server server{ioc.get_executor(), loopback_any_port()};
    std::string why;  // what the process would say: "" while it takes traffic
    add_prometheus_routes(server, std::make_shared<prometheus::Registry>(), [&why] { return why; });
    ASSERT_FALSE(server.start());
    // Same connection: the answer follows the check at each request, not at registration.
    const auto r = run_client(
        ioc, server, [](tcp::endpoint at, std::string& reason) -> asio::awaitable<responses> {
            http_client c(co_await asio::this_coro::executor);
            co_await c.connect(at);
            responses got;
            got.push_back(co_await c.round_trip(make_request(beast::http::verb::get, "/healthz")));
            reason = "draining";
            got.push_back(co_await c.round_trip(make_request(beast::http::verb::get, "/healthz")));
            got.push_back(co_await c.round_trip(make_request(beast::http::verb::get, "/metrics")));
            co_return got;
        }(server.local_endpoint(), why));

    ASSERT_EQ(r.size(), 3U);
    EXPECT_EQ(r[0].result(), beast::http::status::ok);
    EXPECT_EQ(r[0].body(), "ok\n");
    EXPECT_EQ(r[1].result(), beast::http::status::service_unavailable);
    EXPECT_EQ(r[1].body(), "draining\n");
    EXPECT_EQ(r[2].result(), beast::http::status::ok);  // metrics are still scraped while draining
}

}  // namespace
}  // namespace b2b::http
