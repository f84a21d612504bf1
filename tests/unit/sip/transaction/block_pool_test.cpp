#include "sip/transaction/detail/block_pool.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <set>
#include <stdexcept>
#include <vector>

namespace {

using b2b::sip::detail::block_pool;
using b2b::sip::detail::object_pool;

// Whether the page holding `p` is mapped in this process: mincore fails with ENOMEM for an
// address no mapping covers.
bool mapped(const void* p) {
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    auto* start = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(p) & ~(page - 1));
    unsigned char v = 0;
    return ::mincore(start, page, &v) == 0 || errno != ENOMEM;
}

TEST(block_pool, hands_out_distinct_aligned_blocks_and_reuses_a_freed_one) {
    block_pool pool(40, 4096);
    EXPECT_EQ(pool.block_size(), 48U);  // rounded up to 16
    std::set<void*> seen;
    std::vector<void*> blocks;
    for (int i = 0; i < 10; ++i) {
        void* b = pool.allocate();
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b) % alignof(std::max_align_t), 0U);
        std::memset(b, 0xab, pool.block_size());
        EXPECT_TRUE(seen.insert(b).second);
        blocks.push_back(b);
    }
    EXPECT_EQ(pool.in_use(), 10U);
    pool.deallocate(blocks[3]);
    EXPECT_EQ(pool.in_use(), 9U);
    EXPECT_EQ(pool.allocate(), blocks[3]);
    for (void* b : blocks) pool.deallocate(b);
    EXPECT_EQ(pool.in_use(), 0U);
}

TEST(block_pool, maps_a_slab_when_the_open_ones_are_full) {
    block_pool pool(100, 4096);
    const std::size_t per = pool.blocks_per_slab();
    ASSERT_GT(per, 10U);
    std::vector<void*> blocks;
    for (std::size_t i = 0; i < per; ++i) blocks.push_back(pool.allocate());
    EXPECT_EQ(pool.slabs(), 1U);
    blocks.push_back(pool.allocate());
    EXPECT_EQ(pool.slabs(), 2U);
    // A block freed in the full slab serves before the rest of the new one.
    pool.deallocate(blocks[0]);
    EXPECT_EQ(pool.allocate(), blocks[0]);
    for (void* b : blocks) pool.deallocate(b);
}

TEST(block_pool, gives_an_empty_slab_back_to_the_system_and_keeps_one_spare) {
    block_pool pool(200, 4096);
    const std::size_t per = pool.blocks_per_slab();
    std::vector<void*> first, second, third;
    for (std::size_t i = 0; i < per; ++i) first.push_back(pool.allocate());
    for (std::size_t i = 0; i < per; ++i) second.push_back(pool.allocate());
    for (std::size_t i = 0; i < per; ++i) third.push_back(pool.allocate());
    EXPECT_EQ(pool.slabs(), 3U);

    for (void* b : first) pool.deallocate(b);  // the spare: still mapped
    EXPECT_EQ(pool.slabs(), 3U);
    EXPECT_TRUE(mapped(first[0]));
    for (void* b : second) pool.deallocate(b);  // a spare is kept already: unmapped
    EXPECT_EQ(pool.slabs(), 2U);
    EXPECT_FALSE(mapped(second[0]));
    EXPECT_TRUE(mapped(third[0]));

    // Once the open slabs are full the spare serves again, from its first block.
    std::vector<void*> again;
    for (std::size_t i = 0; i < per; ++i) again.push_back(pool.allocate());
    EXPECT_EQ(pool.slabs(), 2U);
    EXPECT_EQ(std::set<void*>(again.begin(), again.end()), std::set<void*>(first.begin(), first.end()));
    for (void* b : again) pool.deallocate(b);
    for (void* b : third) pool.deallocate(b);
    EXPECT_EQ(pool.slabs(), 1U);
    EXPECT_EQ(pool.in_use(), 0U);
}

TEST(block_pool, a_block_larger_than_a_slab_gets_a_larger_slab) {
    block_pool pool(10000, 4096);
    EXPECT_GE(pool.blocks_per_slab(), 1U);
    void* a = pool.allocate();
    void* b = pool.allocate();
    std::memset(a, 1, pool.block_size());
    std::memset(b, 2, pool.block_size());
    EXPECT_NE(a, b);
    pool.deallocate(a);
    pool.deallocate(b);
}

TEST(block_pool, unmaps_every_slab_when_destroyed) {
    void* kept = nullptr;
    {
        block_pool pool(64, 4096);
        kept = pool.allocate();
        for (int i = 0; i < 200; ++i) (void)pool.allocate();
        EXPECT_TRUE(mapped(kept));
    }
    EXPECT_FALSE(mapped(kept));
}

struct counted {
    static inline int alive = 0;
    explicit counted(int v, bool fail = false) : value(v) {
        if (fail) throw std::runtime_error("constructor failed");
        ++alive;
    }
    ~counted() { --alive; }
    int value;
    char payload[300]{};
};

TEST(object_pool, constructs_in_a_block_and_destroys_and_gives_it_back) {
    object_pool<counted> pool(4096);
    counted* a = pool.create(7);
    counted* b = pool.create(8);
    EXPECT_EQ(a->value, 7);
    EXPECT_EQ(b->value, 8);
    EXPECT_EQ(counted::alive, 2);
    EXPECT_EQ(pool.blocks().in_use(), 2U);
    pool.destroy(a);
    EXPECT_EQ(counted::alive, 1);
    EXPECT_EQ(pool.blocks().in_use(), 1U);
    EXPECT_THROW(pool.create(9, true), std::runtime_error);
    EXPECT_EQ(pool.blocks().in_use(), 1U);  // the failed construction's block came back
    pool.destroy(b);
    EXPECT_EQ(counted::alive, 0);
}

}  // namespace
