#include "sip/transaction/detail/text_pool.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace {

using b2b::sip::detail::text_pool;

TEST(text_pool, copies_texts_of_every_size_and_gives_their_blocks_back) {
    text_pool pool;
    const std::string key = "z9hG4bK-7f3a;127.0.0.1:5060;INVITE";
    const std::string ack(700, 'a');
    const std::string big(5000, 'b');  // past the largest size: on the heap
    {
        auto k = pool.make(key);
        auto a = pool.make(ack);
        auto b = pool.make(big);
        EXPECT_EQ(k.view(), key);
        EXPECT_EQ(a.view(), ack);
        EXPECT_EQ(b.view(), big);
        EXPECT_EQ(pool.in_use(), 2U);  // the heap one is not counted
    }
    EXPECT_EQ(pool.in_use(), 0U);
}

TEST(text_pool, an_empty_text_holds_no_block) {
    text_pool pool;
    auto t = pool.make("");
    EXPECT_TRUE(t.empty());
    EXPECT_EQ(pool.in_use(), 0U);
    text_pool::text none;
    EXPECT_TRUE(none.view().empty());
}

TEST(text_pool, moving_hands_the_block_over_and_assigning_gives_the_old_one_back) {
    text_pool pool;
    auto a = pool.make("first");
    text_pool::text b = std::move(a);
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    EXPECT_EQ(b.view(), "first");
    EXPECT_EQ(pool.in_use(), 1U);
    b = pool.make("second");
    EXPECT_EQ(b.view(), "second");
    EXPECT_EQ(pool.in_use(), 1U);
    b = text_pool::text{};
    EXPECT_EQ(pool.in_use(), 0U);
}

}  // namespace
