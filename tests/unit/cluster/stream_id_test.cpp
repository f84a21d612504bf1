// Stream ids: parsing, printing, and the order Redis gives them.
#include "cluster/detail/stream_id.hpp"

#include <gtest/gtest.h>

namespace b2b::cluster::detail {
namespace {

TEST(StreamId, ParsesBothForms) {
    EXPECT_EQ(parse_stream_id("1700000000000-5"), (stream_id{1700000000000, 5}));
    EXPECT_EQ(parse_stream_id("0"), (stream_id{0, 0}));
    EXPECT_EQ(parse_stream_id("42"), (stream_id{42, 0}));
}

TEST(StreamId, RefusesWhatIsNotAnId) {
    for (const char* bad :
         {"", "$", "-", "1-", "-1", "a-1", "1-b", "1-2-3", " 1-2", "+", "18446744073709551616-0"})
        EXPECT_FALSE(parse_stream_id(bad).has_value()) << bad;
}

TEST(StreamId, OrdersByMillisecondsThenSequence) {
    EXPECT_LT((stream_id{1, 9}), (stream_id{2, 0}));
    EXPECT_LT((stream_id{2, 0}), (stream_id{2, 1}));
    EXPECT_EQ((stream_id{7, 3}).to_string(), "7-3");
}

}  // namespace
}  // namespace b2b::cluster::detail
