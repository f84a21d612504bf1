// GET / over a real HTTP server: the admin token's answers (401 Basic, 403 off, 200 page) and the
// headers that forbid scripts and framing, with a stand-in for the SIP loop's snapshot.
#include "admin/status_route.hpp"

#include "tests/unit/http/http_test_client.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace b2b::admin {
namespace {

using namespace http::test;
namespace bh = boost::beast::http;

// "admin:s3cret" and "admin:wrong" in base64.
constexpr const char* good_basic = "Basic YWRtaW46czNjcmV0";
constexpr const char* wrong_basic = "Basic YWRtaW46d3Jvbmc=";

status_snapshot named_snapshot() {
    status_snapshot s;
    status_snapshot::trunk_row t;
    t.name = "carrier-secret-name";
    s.trunks.push_back(t);
    b2bua::auth_failure_entry e;
    e.last.username = "pbxuser";
    e.last.peer = "pbx.local";
    e.last.source = sip::endpoint{boost::asio::ip::make_address("127.0.0.1"), 5062};
    s.failures.push_back(e);
    s.version = "9.9.9";
    return s;
}

class status_route_test : public ::testing::Test {
protected:
    /// Serves GET / with `token`; the source answers later on the loop, as the SIP loop does.
    void start(access_token token) {
        server_.emplace(ioc_.get_executor(), loopback_any_port());
        add_status_page(*server_, std::move(token), [this](std::function<void(status_snapshot)> done) {
            ++snapshots_taken_;
            asio::post(ioc_, [done = std::move(done)] { done(named_snapshot()); });
        });
        ASSERT_FALSE(server_->start());
    }

    client_response get(std::optional<std::string> authorization) {
        auto req = make_request(bh::verb::get, "/");
        if (authorization) req.set(bh::field::authorization, *authorization);
        return run_client(ioc_, *server_,
                          [](tcp::endpoint to, client_request r) -> asio::awaitable<client_response> {
                              http_client c(co_await asio::this_coro::executor);
                              co_await c.connect(to);
                              co_return co_await c.round_trip(std::move(r));
                          }(server_->local_endpoint(), std::move(req)));
    }

    static void expect_page_headers(const client_response& r) {
        EXPECT_EQ(r[bh::field::content_type], "text/html; charset=utf-8");
        EXPECT_EQ(r[bh::field::cache_control], "no-store");
        EXPECT_EQ(r["Content-Security-Policy"], "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
        EXPECT_EQ(r["X-Content-Type-Options"], "nosniff");
        EXPECT_EQ(r[bh::field::x_frame_options], "DENY");
    }

    static void expect_no_names(const client_response& r) {
        for (const char* name : {"carrier-secret-name", "pbxuser", "pbx.local", "127.0.0.1", "9.9.9"}) {
            EXPECT_EQ(r.body().find(name), std::string::npos) << name << " shown in\n" << r.body();
        }
    }

    asio::io_context ioc_;
    std::optional<http::http_server> server_;
    int snapshots_taken_ = 0;
};

TEST_F(status_route_test, without_credentials_401_with_a_basic_challenge_and_no_name) {
    start(access_token("s3cret"));
    const auto r = get(std::nullopt);
    EXPECT_EQ(r.result(), bh::status::unauthorized);
    EXPECT_EQ(r[bh::field::www_authenticate], "Basic realm=\"b2bua\", charset=\"UTF-8\"");
    expect_page_headers(r);
    expect_no_names(r);
    EXPECT_NE(r.body().find("admin token as the password"), std::string::npos);
    EXPECT_EQ(snapshots_taken_, 0);  // the core is not even asked
}

TEST_F(status_route_test, a_wrong_password_or_token_is_401_too) {
    start(access_token("s3cret"));
    for (const char* wrong : {wrong_basic, "Bearer s3cre", "Basic !!!!", "Digest username=\"admin\""}) {
        const auto r = get(std::string(wrong));
        EXPECT_EQ(r.result(), bh::status::unauthorized) << wrong;
        expect_no_names(r);
        server_->stop();
        ioc_.restart();
        ASSERT_FALSE(server_->start());
    }
    EXPECT_EQ(snapshots_taken_, 0);
}

TEST_F(status_route_test, basic_with_the_token_as_password_gets_the_page) {
    start(access_token("s3cret"));
    const auto r = get(std::string(good_basic));
    EXPECT_EQ(r.result(), bh::status::ok);
    expect_page_headers(r);
    EXPECT_NE(r.body().find("carrier-secret-name"), std::string::npos);
    EXPECT_NE(r.body().find("pbxuser"), std::string::npos);
    EXPECT_NE(r.body().find("b2bua 9.9.9"), std::string::npos);
    EXPECT_EQ(r.body().find("<script"), std::string::npos);
    EXPECT_EQ(snapshots_taken_, 1);
}

TEST_F(status_route_test, bearer_is_accepted_as_by_the_api) {
    start(access_token("s3cret"));
    const auto r = get(std::string("Bearer s3cret"));
    EXPECT_EQ(r.result(), bh::status::ok);
    EXPECT_NE(r.body().find("carrier-secret-name"), std::string::npos);
}

TEST_F(status_route_test, with_no_token_configured_403_whatever_is_sent) {
    start(access_token());
    for (std::optional<std::string> sent : {std::optional<std::string>(), std::optional<std::string>(good_basic),
                                            std::optional<std::string>("Bearer ")}) {
        const auto r = get(sent);
        EXPECT_EQ(r.result(), bh::status::forbidden);
        EXPECT_EQ(r.count(bh::field::www_authenticate), 0u);
        expect_page_headers(r);
        expect_no_names(r);
        EXPECT_NE(r.body().find("admin.token_file"), std::string::npos);
        server_->stop();
        ioc_.restart();
        ASSERT_FALSE(server_->start());
    }
    EXPECT_EQ(snapshots_taken_, 0);
}

TEST(status_page_refusal, answers_from_the_tokens_one_check) {
    const access_token on("s3cret");
    EXPECT_FALSE(status_page_refusal(on, good_basic).has_value());
    EXPECT_FALSE(status_page_refusal(on, "Bearer s3cret").has_value());
    ASSERT_TRUE(status_page_refusal(on, wrong_basic).has_value());
    EXPECT_EQ(status_page_refusal(on, wrong_basic)->status, bh::status::unauthorized);
    EXPECT_EQ(status_page_refusal(access_token(), good_basic)->status, bh::status::forbidden);
    EXPECT_EQ(on.check(good_basic), access_token::access::granted);
    EXPECT_EQ(on.check(wrong_basic), access_token::access::refused);
    EXPECT_EQ(access_token().check(good_basic), access_token::access::off);
}

}  // namespace
}  // namespace b2b::admin
