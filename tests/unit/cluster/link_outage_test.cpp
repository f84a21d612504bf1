// link, Redis unreachable: down reported, leases given up in time, events kept and sent on return.
#include "cluster/link.hpp"

#include "link_harness.hpp"
#include "redis_server.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace b2b::cluster {
namespace {

using namespace test;
using clock = std::chrono::steady_clock;

class LinkOutageTest : public testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(server_.start());
        a_ = std::make_unique<link>(loop_.executor(), test_options("a", server_.port()),
                                    ra_.handlers());
        b_ = std::make_unique<link>(loop_.executor(), test_options("b", server_.port()),
                                    rb_.handlers());
        a_->want_leases({"t"});
        ASSERT_TRUE(loop_.run_until([&] { return ra_.holds("t") && ra_.is_up() && rb_.is_up(); }));
    }

    redis_server server_;
    handler_loop loop_;
    recorder ra_, rb_;
    std::unique_ptr<link> a_, b_;
};

TEST_F(LinkOutageTest, KilledRedisIsDownThenBackOnTheSamePort) {
    server_.stop();
    const auto killed = clock::now();
    ASSERT_TRUE(loop_.run_until([&] { return ra_.is_down() && rb_.is_down(); }, 2s));
    EXPECT_FALSE(a_->up());
    EXPECT_FALSE(b_->up());
    EXPECT_FALSE(ra_.statuses.back().reason.empty());

    // Lost on A's side before Redis could have let the key expire (600 ms after the last renewal).
    ASSERT_TRUE(loop_.run_until([&] { return !ra_.holds("t"); }, 1s));
    EXPECT_LT(clock::now() - killed, 600ms);
    EXPECT_FALSE(a_->owns("t"));

    ASSERT_TRUE(a_->publish("ban", "made while down"));
    loop_.run_for(100ms);
    EXPECT_EQ(a_->counters().queued, 1u);

    ASSERT_TRUE(server_.start());
    ASSERT_TRUE(loop_.run_until([&] { return ra_.is_up() && rb_.is_up(); }, 2s));
    ASSERT_EQ(ra_.statuses.size(), 3u) << "up, down, up: one report each";
    ASSERT_TRUE(loop_.run_until([&] { return !rb_.events.empty(); }, 2s));
    EXPECT_EQ(rb_.events.back().body, "made while down");
    EXPECT_EQ(a_->counters().queued, 0u);
    ASSERT_TRUE(loop_.run_until([&] { return ra_.holds("t"); }, 2s))
        << "taken again from the empty Redis";
}

TEST_F(LinkOutageTest, SilentRedisTimesOutAndTheLeaseIsGivenUpInTime) {
    server_.pause();
    const auto paused = clock::now();
    ASSERT_TRUE(loop_.run_until([&] { return ra_.is_down(); }, 2s));
    EXPECT_NE(ra_.statuses.back().reason.find("timed out"), std::string::npos)
        << ra_.statuses.back().reason;
    ASSERT_TRUE(loop_.run_until([&] { return !ra_.holds("t"); }, 1s));
    EXPECT_LT(clock::now() - paused, 600ms);

    server_.resume();
    ASSERT_TRUE(loop_.run_until([&] { return ra_.is_up() && ra_.holds("t"); }, 2s));
}

}  // namespace
}  // namespace b2b::cluster
