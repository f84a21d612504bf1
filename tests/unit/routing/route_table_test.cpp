// Longest-prefix routing.
#include "routing/route_table.hpp"

#include <gtest/gtest.h>

namespace b2b::routing {
namespace {

TEST(route_table, empty_table_matches_nothing) {
    route_table t;
    EXPECT_EQ(t.match("1000"), nullptr);
    EXPECT_EQ(t.match(""), nullptr);
}

TEST(route_table, default_route_matches_everything) {
    route_table t(std::vector<route>{{"", {"carrier"}, 0, {}}});
    ASSERT_NE(t.match("1000"), nullptr);
    EXPECT_EQ(t.match("1000")->trunks.front(), "carrier");
    ASSERT_NE(t.match(""), nullptr);
}

TEST(route_table, longest_prefix_wins_whatever_the_order) {
    route_table t(std::vector<route>{{"4", {"intl"}, 0, {}}, {"", {"default"}, 0, {}}, {"4930", {"berlin"}, 0, {}}, {"49", {"germany"}, 0, {}}});
    EXPECT_EQ(t.match("493012345")->trunks.front(), "berlin");
    EXPECT_EQ(t.match("498912345")->trunks.front(), "germany");
    EXPECT_EQ(t.match("4412345")->trunks.front(), "intl");
    EXPECT_EQ(t.match("112")->trunks.front(), "default");
    EXPECT_EQ(t.match("4930")->trunks.front(), "berlin");  // a prefix equal to the whole number
    EXPECT_EQ(t.match("493")->trunks.front(), "germany");  // shorter than the longest prefix
}

TEST(route_table, no_default_means_no_route) {
    route_table t(std::vector<route>{{"00", {"intl"}, 0, {}}, {"0", {"national"}, 0, {}}});
    EXPECT_EQ(t.match("112"), nullptr);
    EXPECT_EQ(t.match("0301234")->trunks.front(), "national");
    EXPECT_EQ(t.match("0044")->trunks.front(), "intl");
}

TEST(route_table, later_duplicate_replaces_earlier) {
    route_table t(std::vector<route>{{"49", {"a"}, 0, {}}, {"49", {"b"}, 0, {}}});
    EXPECT_EQ(t.routes().size(), 1u);
    EXPECT_EQ(t.match("4930")->trunks.front(), "b");
}

TEST(route_table, many_routes_still_pick_the_longest) {
    std::vector<route> routes;
    for (int i = 0; i < 1000; ++i) routes.push_back({std::to_string(100000 + i), {"t" + std::to_string(i)}, 0, {}});
    routes.push_back({"1000", {"short"}, 0, {}});
    route_table t(std::move(routes));
    EXPECT_EQ(t.match("100042777")->trunks.front(), "t42");
    EXPECT_EQ(t.match("1000x")->trunks.front(), "short");
    EXPECT_EQ(t.match("2"), nullptr);
}

}  // namespace
}  // namespace b2b::routing
