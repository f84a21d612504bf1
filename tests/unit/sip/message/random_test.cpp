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

TEST(token_source, branches_and_tags_name_their_worker) {
    for (const std::uint8_t worker : {std::uint8_t{0}, std::uint8_t{1}, std::uint8_t{7}, std::uint8_t{255}}) {
        token_source tokens(worker);
        for (int i = 0; i < 100; ++i) {
            EXPECT_EQ(token_worker(tokens.branch()), worker);
            EXPECT_EQ(token_worker(tokens.tag()), worker);
        }
    }
    token_source tokens(3);
    std::set<std::string> tags;
    for (int i = 0; i < 1000; ++i) tags.insert(tokens.tag());
    EXPECT_EQ(tags.size(), 1000u) << "56 random bits are left in a tag";
}

TEST(token_worker, only_our_shapes_name_a_worker) {
    EXPECT_EQ(token_worker("0123456789abcd0a"), 10);
    EXPECT_EQ(token_worker("z9hG4bK0123456789abcdef0123456789abcd01"), 1);
    EXPECT_EQ(token_worker(""), std::nullopt);
    EXPECT_EQ(token_worker("z9hG4bK"), std::nullopt);
    EXPECT_EQ(token_worker("0123456789ABCD0A"), std::nullopt) << "ours are lowercase";
    EXPECT_EQ(token_worker("as-a-peer-likes-it"), std::nullopt);
    EXPECT_EQ(token_worker("z9hG4bKPJ0123456789abcdef0123456789abcd"), std::nullopt);
    EXPECT_EQ(token_worker("0123456789abcd0a1"), std::nullopt);
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
