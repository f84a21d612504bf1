// lease_table: held from a confirmed renewal until the validity runs out, reported on change.
#include "cluster/detail/lease_table.hpp"

#include <gtest/gtest.h>

namespace b2b::cluster::detail {
namespace {

using namespace std::chrono_literals;
using clock = lease_table::clock;
using names = std::vector<std::string>;

class LeaseTableTest : public testing::Test {
protected:
    lease_table table_{"me", 800ms};
    clock::time_point t0_ = clock::now();
};

TEST_F(LeaseTableTest, ConfirmedRenewalIsHeldUntilValidityFromWhenItWasSent) {
    table_.want({"b", "a", "a"});
    EXPECT_EQ(table_.wanted(), (names{"a", "b"}));
    table_.renewed(names{"a", "b"}, names{"me", "other"}, t0_);
    EXPECT_TRUE(table_.owns("a", t0_ + 799ms));
    EXPECT_FALSE(table_.owns("a", t0_ + 800ms));
    EXPECT_FALSE(table_.owns("b", t0_));

    auto change = table_.take_change();
    ASSERT_TRUE(change);
    EXPECT_EQ(change->gained, names{"a"});
    EXPECT_TRUE(change->lost.empty());
    EXPECT_EQ(change->others, (std::map<std::string, std::string>{{"b", "other"}}));
    EXPECT_FALSE(table_.take_change()) << "reported once";
}

TEST_F(LeaseTableTest, HolderFollowsEveryRenewalWhetherOrNotTheHeldSetChanged) {
    EXPECT_EQ(table_.holder("a"), "") << "not wanted";
    table_.want({"a"});
    EXPECT_EQ(table_.holder("a"), "") << "not renewed yet";
    table_.renewed(names{"a"}, names{"other"}, t0_);
    EXPECT_EQ(table_.holder("a"), "other");
    (void)table_.take_change();
    // The holder changes from one node to another: nothing held here changed, nothing reported.
    table_.renewed(names{"a"}, names{"third"}, t0_ + 100ms);
    EXPECT_FALSE(table_.take_change());
    EXPECT_EQ(table_.holder("a"), "third");
    table_.renewed(names{"a"}, names{"me"}, t0_ + 200ms);
    EXPECT_EQ(table_.holder("a"), "me");
    table_.expire(t0_ + 1000ms);
    EXPECT_EQ(table_.holder("a"), "") << "run out: whoever Redis gives it to is not known yet";
    table_.want({});
    EXPECT_EQ(table_.holder("a"), "");
}

TEST_F(LeaseTableTest, WithoutRenewalTheLeaseRunsOut) {
    table_.want({"a"});
    table_.renewed(names{"a"}, names{"me"}, t0_);
    (void)table_.take_change();
    table_.expire(t0_ + 500ms);
    EXPECT_FALSE(table_.take_change());
    table_.expire(t0_ + 800ms);
    auto change = table_.take_change();
    ASSERT_TRUE(change);
    EXPECT_EQ(change->lost, names{"a"});
    EXPECT_EQ(change->others.at("a"), "") << "nobody known to hold it";
}

TEST_F(LeaseTableTest, AnotherHolderEndsOurs) {
    table_.want({"a"});
    table_.renewed(names{"a"}, names{"me"}, t0_);
    (void)table_.take_change();
    table_.renewed(names{"a"}, names{"other"}, t0_ + 100ms);
    EXPECT_FALSE(table_.owns("a", t0_ + 100ms));
    auto change = table_.take_change();
    ASSERT_TRUE(change);
    EXPECT_EQ(change->lost, names{"a"});
    EXPECT_EQ(change->others.at("a"), "other");
}

TEST_F(LeaseTableTest, UnwantedLeaseStopsAtOnceAndIsReleased) {
    table_.want({"a", "b"});
    table_.renewed(names{"a", "b"}, names{"me", "me"}, t0_);
    (void)table_.take_change();
    table_.want({"b"});
    EXPECT_FALSE(table_.owns("a", t0_));
    EXPECT_EQ(table_.releasing(), names{"a"});
    EXPECT_EQ(table_.all_held(), (names{"a", "b"}));
    auto change = table_.take_change();
    ASSERT_TRUE(change);
    EXPECT_EQ(change->lost, names{"a"});
    table_.released(names{"a"});
    EXPECT_TRUE(table_.releasing().empty());
}

TEST_F(LeaseTableTest, RenewalAnsweredAfterTheNameWasDroppedIsReleased) {
    table_.want({"a"});
    table_.want({});
    table_.renewed(names{"a"}, names{"me"}, t0_);  // sent before the second want
    EXPECT_FALSE(table_.owns("a", t0_));
    EXPECT_EQ(table_.releasing(), names{"a"});
    table_.expire(t0_ + 800ms);
    EXPECT_TRUE(table_.releasing().empty()) << "expired in Redis by then";
}

TEST_F(LeaseTableTest, WantedAgainBeforeReleaseIsNotDeleted) {
    table_.want({"a"});
    table_.renewed(names{"a"}, names{"me"}, t0_);
    table_.want({});
    table_.want({"a"});
    EXPECT_TRUE(table_.releasing().empty());
}

}  // namespace
}  // namespace b2b::cluster::detail
