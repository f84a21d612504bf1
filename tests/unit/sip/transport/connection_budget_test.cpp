#include "sip/transport/connection_budget.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace b2b::sip {
namespace {

const auto a = boost::asio::ip::make_address("192.0.2.1");
const auto b = boost::asio::ip::make_address("192.0.2.2");

TEST(connection_budget, per_source_limit_leaves_room_for_other_sources) {
    connection_budget budget({.inbound = 10, .inbound_per_source = 2, .outbound = 5});
    EXPECT_FALSE(budget.admit_inbound(a));
    EXPECT_FALSE(budget.admit_inbound(a));
    EXPECT_EQ(budget.admit_inbound(a), connection_refusal::source_limit);
    EXPECT_FALSE(budget.admit_inbound(b));
    EXPECT_EQ(budget.inbound(), 3u);
    EXPECT_EQ(budget.inbound_from(a), 2u);
    budget.release_inbound(a);
    EXPECT_FALSE(budget.admit_inbound(a)) << "a closed connection frees its source's share";
}

TEST(connection_budget, total_inbound_limit) {
    connection_budget budget({.inbound = 2, .inbound_per_source = 0, .outbound = 5});
    EXPECT_FALSE(budget.admit_inbound(a));
    EXPECT_FALSE(budget.admit_inbound(a)) << "0 = no per-source limit";
    EXPECT_EQ(budget.admit_inbound(b), connection_refusal::limit);
}

TEST(connection_budget, inbound_flood_leaves_the_outbound_budget_alone) {
    connection_budget budget({.inbound = 3, .inbound_per_source = 3, .outbound = 2});
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(budget.admit_inbound(a));
    EXPECT_EQ(budget.admit_inbound(b), connection_refusal::limit);
    EXPECT_FALSE(budget.admit_outbound());
    EXPECT_FALSE(budget.admit_outbound());
    EXPECT_EQ(budget.admit_outbound(), connection_refusal::outbound_limit);
    budget.release_outbound();
    EXPECT_FALSE(budget.admit_outbound());
    EXPECT_EQ(budget.inbound(), 3u);
    EXPECT_EQ(budget.outbound(), 2u);
}

TEST(connection_budget, v4_mapped_source_is_the_ipv4_source) {
    connection_budget budget({.inbound = 10, .inbound_per_source = 1, .outbound = 1});
    EXPECT_FALSE(budget.admit_inbound(a));
    EXPECT_EQ(budget.admit_inbound(boost::asio::ip::make_address("::ffff:192.0.2.1")), connection_refusal::source_limit);
    budget.release_inbound(boost::asio::ip::make_address("::ffff:192.0.2.1"));
    EXPECT_EQ(budget.inbound(), 0u);
}

TEST(connection_budget, releasing_an_uncounted_source_changes_nothing) {
    connection_budget budget({.inbound = 1, .inbound_per_source = 1, .outbound = 1});
    EXPECT_FALSE(budget.admit_inbound(a));
    budget.release_inbound(b);
    EXPECT_EQ(budget.inbound(), 1u);
    budget.release_outbound();
    EXPECT_EQ(budget.outbound(), 0u);
}

TEST(connection_budget, threads_admitting_at_once_never_pass_the_limits) {
    // The transports of several workers share one budget.
    connection_budget budget({.inbound = 1000, .inbound_per_source = 64, .outbound = 50});
    std::atomic<int> admitted{0};
    std::atomic<int> opened{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 100; ++i) {
                if (!budget.admit_inbound(a)) ++admitted;
                if (!budget.admit_outbound()) ++opened;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(admitted, 64);
    EXPECT_EQ(opened, 50);
    EXPECT_EQ(budget.inbound_from(a), 64u);
}

}  // namespace
}  // namespace b2b::sip
