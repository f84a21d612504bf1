// The stream commands and the parsing of XREAD and XREVRANGE replies.
#include "cluster/detail/stream_codec.hpp"

#include "cluster/error.hpp"

#include <gtest/gtest.h>

namespace b2b::cluster::detail {
namespace {

redis_reply str(std::string s) {
    return {redis_reply::kind::string, 0, std::move(s), {}};
}
redis_reply arr(std::vector<redis_reply> e) {
    return {redis_reply::kind::array, 0, {}, std::move(e)};
}
redis_reply entry(std::string id, std::vector<std::string> fields) {
    std::vector<redis_reply> f;
    for (auto& s : fields) f.push_back(str(std::move(s)));
    return arr({str(std::move(id)), arr(std::move(f))});
}

TEST(StreamCodec, XaddNamesTheFieldsAndTrimsApproximately) {
    EXPECT_EQ(xadd_command("p:events", 100000, "n1", "ban", "body"),
              (std::vector<std::string>{"XADD", "p:events", "MAXLEN", "~", "100000", "*", "node",
                                        "n1", "kind", "ban", "body", "body"}));
}

TEST(StreamCodec, XreadDoesNotBlock) {
    EXPECT_EQ(xread_command("p:events", 512, "5-0"),
              (std::vector<std::string>{"XREAD", "COUNT", "512", "STREAMS", "p:events", "5-0"}));
}

TEST(StreamCodec, NilXreadIsNoEvents) {
    auto r = parse_xread(redis_reply{}, "p:events");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->empty());
}

TEST(StreamCodec, XreadEntriesInOrderWithUnknownFieldsIgnored) {
    const auto reply =
        arr({arr({str("p:events"), arr({entry("1-0", {"node", "a", "kind", "k", "body", "b"}),
                                        entry("2-0", {"extra", "x", "node", "b"})})})});
    auto r = parse_xread(reply, "p:events");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0], (event{"1-0", "a", "k", "b"}));
    EXPECT_EQ((*r)[1], (event{"2-0", "b", "", ""}));
}

TEST(StreamCodec, MisshapenXreadIsAProtocolError) {
    const auto odd_fields = arr({arr({str("p:events"), arr({entry("1-0", {"node"})})})});
    EXPECT_EQ(parse_xread(odd_fields, "p:events").error(), errc::protocol_error);
    EXPECT_EQ(parse_xread(str("x"), "p:events").error(), errc::protocol_error);
}

TEST(StreamCodec, LastEntryOfAnEmptyStreamIsNothing) {
    auto none = parse_last_entry(arr({}));
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
    auto some = parse_last_entry(arr({entry("9-1", {"node", "a"})}));
    ASSERT_TRUE(some);
    EXPECT_EQ(some->value(), "9-1");
}

}  // namespace
}  // namespace b2b::cluster::detail
