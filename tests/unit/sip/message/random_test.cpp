// Tests for the one source of randomness: tags, Call-IDs and branches are hex and distinct.
#include "sip/message/random.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace b2b::sip {
namespace {

TEST(token_source, tags_call_ids_and_branches_are_hex_and_distinct) {
    token_source tokens;
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto tag = tokens.tag();
        const auto call_id = tokens.hex(16);
        const auto branch = tokens.branch();
        ASSERT_EQ(tag.size(), 16u);
        ASSERT_EQ(call_id.size(), 32u);
        ASSERT_EQ(branch.substr(0, 7), "z9hG4bK");
        EXPECT_EQ(tag.find_first_not_of("0123456789abcdef"), std::string::npos);
        EXPECT_EQ(call_id.find_first_not_of("0123456789abcdef"), std::string::npos);
        EXPECT_EQ(branch.substr(7).find_first_not_of("0123456789abcdef"), std::string::npos);
        seen.insert(tag);
        seen.insert(call_id);
        seen.insert(branch);
    }
    EXPECT_EQ(seen.size(), 3000u);
}

TEST(token_source, odd_lengths_are_honoured) {
    token_source tokens;
    EXPECT_EQ(tokens.hex(0), "");
    EXPECT_EQ(tokens.hex(3).size(), 6u);
    EXPECT_EQ(tokens.hex(9).size(), 18u);
}

TEST(random_bytes, fills_the_span) {
    std::array<std::uint8_t, 64> a{};
    std::array<std::uint8_t, 64> b{};
    random_bytes(a);
    random_bytes(b);
    EXPECT_NE(a, b);
}

}  // namespace
}  // namespace b2b::sip
