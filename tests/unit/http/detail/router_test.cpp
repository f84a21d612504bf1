// Tests of the HTTP route table: exact and prefix matches, 404 and 405 outcomes, bad routes.
#include "http/detail/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <variant>

namespace b2b::http::detail {
namespace {

namespace beast = boost::beast;

/// A handler whose response body names it, so a test can tell which one matched.
route_handler named(std::string name) {
    return [name = std::move(name)](const request&) { return response{.body = name}; };
}

/// The name of the handler `m` found, or "" when none.
std::string name_of(const route_match& m) {
    if (m.handler == nullptr) return "";
    const beast::http::fields no_headers;
    return std::get<route_handler>(*m.handler)(request{.headers = no_headers}).body;
}

TEST(router, exact_route_matches_only_its_path) {
    router r;
    r.add(beast::http::verb::get, "/metrics", named("metrics"));
    const auto m = r.find(beast::http::verb::get, "/metrics");
    EXPECT_EQ(name_of(m), "metrics");
    EXPECT_EQ(m.rest, "");
    EXPECT_EQ(r.find(beast::http::verb::get, "/metrics/").handler, nullptr);
    EXPECT_EQ(r.find(beast::http::verb::get, "/metric").handler, nullptr);
    EXPECT_EQ(r.find(beast::http::verb::get, "/").handler, nullptr);
}

TEST(router, unknown_path_has_no_handler_and_no_allow) {
    router r;
    r.add(beast::http::verb::get, "/metrics", named("metrics"));
    r.add(beast::http::verb::get, "/api/*", named("api"));
    const auto m = r.find(beast::http::verb::get, "/nowhere");
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_EQ(m.allow, "");
}

TEST(router, prefix_route_hands_over_the_rest_of_the_path) {
    router r;
    r.add(beast::http::verb::get, "/api/v1/trunks/*", named("trunks"));
    const auto m = r.find(beast::http::verb::get, "/api/v1/trunks/acme/status");
    EXPECT_EQ(name_of(m), "trunks");
    EXPECT_EQ(m.rest, "acme/status");
    EXPECT_EQ(r.find(beast::http::verb::get, "/api/v1/trunks/").rest, "");
    EXPECT_EQ(r.find(beast::http::verb::get, "/api/v1/trunks").handler, nullptr);
}

TEST(router, exact_beats_prefix_and_longer_prefix_beats_shorter) {
    router r;
    r.add(beast::http::verb::get, "/api/*", named("api"));
    r.add(beast::http::verb::get, "/api/v1/trunks/*", named("trunks"));
    r.add(beast::http::verb::get, "/api/v1/trunks/all", named("all"));
    EXPECT_EQ(name_of(r.find(beast::http::verb::get, "/api/v1/trunks/all")), "all");
    EXPECT_EQ(name_of(r.find(beast::http::verb::get, "/api/v1/trunks/x")), "trunks");
    const auto m = r.find(beast::http::verb::get, "/api/v1/routes");
    EXPECT_EQ(name_of(m), "api");
    EXPECT_EQ(m.rest, "v1/routes");
}

TEST(router, method_is_part_of_the_match) {
    router r;
    r.add(beast::http::verb::get, "/api/v1/trunks/*", named("get"));
    r.add(beast::http::verb::put, "/api/v1/trunks/*", named("put"));
    r.add(beast::http::verb::delete_, "/api/v1/trunks/*", named("delete"));
    EXPECT_EQ(name_of(r.find(beast::http::verb::put, "/api/v1/trunks/acme")), "put");
    EXPECT_EQ(name_of(r.find(beast::http::verb::delete_, "/api/v1/trunks/acme")), "delete");
    const auto m = r.find(beast::http::verb::post, "/api/v1/trunks/acme");
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_EQ(m.allow, "DELETE, GET, PUT");
}

TEST(router, longest_prefix_decides_the_allowed_methods) {
    // No fallback to a shorter prefix that has the method: the most specific route owns the
    // path, so a POST there is 405, not the short prefix's POST handler.
    router r;
    r.add(beast::http::verb::post, "/api/*", named("api"));
    r.add(beast::http::verb::get, "/api/v1/*", named("v1"));
    const auto m = r.find(beast::http::verb::post, "/api/v1/x");
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_EQ(m.allow, "GET");
}

TEST(router, rejects_bad_and_duplicate_routes) {
    router r;
    r.add(beast::http::verb::get, "/x", named("x"));
    r.add(beast::http::verb::get, "/x*", named("x prefix"));  // a prefix is a different route
    EXPECT_THROW(r.add(beast::http::verb::get, "/x", named("again")), std::invalid_argument);
    EXPECT_THROW(r.add(beast::http::verb::get, "/x*", named("again")), std::invalid_argument);
    EXPECT_THROW(r.add(beast::http::verb::get, "", named("empty")), std::invalid_argument);
    EXPECT_THROW(r.add(beast::http::verb::get, "x", named("relative")), std::invalid_argument);
    EXPECT_THROW(r.add(beast::http::verb::get, "*", named("star")), std::invalid_argument);
    EXPECT_THROW(r.add(beast::http::verb::unknown, "/y", named("unknown")), std::invalid_argument);
    EXPECT_EQ(name_of(r.find(beast::http::verb::get, "/x")), "x");
    EXPECT_EQ(name_of(r.find(beast::http::verb::get, "/xy")), "x prefix");
}

}  // namespace
}  // namespace b2b::http::detail
