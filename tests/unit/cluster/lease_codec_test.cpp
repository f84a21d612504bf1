// The lease scripts' commands and the parsing of the renewal's reply.
#include "cluster/detail/lease_codec.hpp"

#include "cluster/error.hpp"

#include <gtest/gtest.h>

namespace b2b::cluster::detail {
namespace {

using namespace std::chrono_literals;

TEST(LeaseCodec, RenewPassesKeysThenNodeAndTtl) {
    const std::vector<std::string> names{"t1", "t2"};
    const auto cmd = renew_command("p", names, "node-a", 10s);
    ASSERT_EQ(cmd.size(), 7u);
    EXPECT_EQ(cmd[0], "EVAL");
    EXPECT_EQ(cmd[2], "2");
    EXPECT_EQ(cmd[3], "p:lease:t1");
    EXPECT_EQ(cmd[4], "p:lease:t2");
    EXPECT_EQ(cmd[5], "node-a");
    EXPECT_EQ(cmd[6], "10000");
}

TEST(LeaseCodec, ReleasePassesKeysThenNode) {
    const std::vector<std::string> names{"t1"};
    const auto cmd = release_command("p", names, "node-a");
    ASSERT_EQ(cmd.size(), 5u);
    EXPECT_EQ(cmd[3], "p:lease:t1");
    EXPECT_EQ(cmd[4], "node-a");
}

TEST(LeaseCodec, RenewReplyNamesEachHolder) {
    redis_reply reply{redis_reply::kind::array, 0, {}, {}};
    reply.elements.push_back({redis_reply::kind::string, 0, "a", {}});
    reply.elements.push_back({redis_reply::kind::string, 0, "b", {}});
    auto holders = parse_renew(reply, 2);
    ASSERT_TRUE(holders);
    EXPECT_EQ(*holders, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(parse_renew(reply, 3).error(), errc::protocol_error);
}

}  // namespace
}  // namespace b2b::cluster::detail
