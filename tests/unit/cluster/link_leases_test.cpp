// link, leases: one holder per name; handed over on release at once, on a crash after the ttl.
#include "cluster/link.hpp"

#include "link_harness.hpp"
#include "redis_server.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace b2b::cluster {
namespace {

using namespace test;
using clock = std::chrono::steady_clock;

class LinkLeasesTest : public testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(server_.start()); }

    std::unique_ptr<link> make_link(const std::string& node, recorder& r,
                                    std::chrono::milliseconds ttl = 600ms) {
        auto o = test_options(node, server_.port());
        o.lease_ttl = ttl;
        return std::make_unique<link>(loop_.executor(), o, r.handlers());
    }

    redis_server server_;
    handler_loop loop_;
};

TEST_F(LinkLeasesTest, ExactlyOneOfTwoHoldsAName) {
    recorder ra, rb;
    auto a = make_link("a", ra);
    auto b = make_link("b", rb);
    a->want_leases({"trunk-1"});
    b->want_leases({"trunk-1"});
    ASSERT_TRUE(loop_.run_until([&] { return ra.holds("trunk-1") || rb.holds("trunk-1"); }));
    loop_.run_for(300ms);  // several renewals: still one holder, never two
    EXPECT_NE(ra.holds("trunk-1"), rb.holds("trunk-1"));
    EXPECT_NE(a->owns("trunk-1"), b->owns("trunk-1"));
    EXPECT_EQ(ra.leases.size() + rb.leases.size(), 1u) << "one gain, no flapping";
}

TEST_F(LinkLeasesTest, ReleasedOnStopTheOtherTakesItWithinTwoRounds) {
    recorder ra, rb;
    auto a = make_link("a", ra, 5s);  // a ttl far beyond the wait: only the release can explain it
    a->want_leases({"t"});
    ASSERT_TRUE(loop_.run_until([&] { return ra.holds("t"); }));
    auto b = make_link("b", rb, 5s);
    b->want_leases({"t"});
    ASSERT_TRUE(loop_.run_until([&] { return rb.is_up(); }));
    loop_.run_for(100ms);
    EXPECT_FALSE(b->owns("t"));

    const auto stopped = clock::now();
    a->stop();
    ASSERT_TRUE(loop_.run_until([&] { return rb.holds("t"); }, 1s));
    EXPECT_LT(clock::now() - stopped, 300ms);
    EXPECT_TRUE(b->owns("t"));
}

TEST_F(LinkLeasesTest, AbandonedTheOtherTakesItAfterTheTtl) {
    recorder ra, rb;
    auto a = make_link("a", ra);
    a->want_leases({"t"});
    ASSERT_TRUE(loop_.run_until([&] { return ra.holds("t"); }));
    auto b = make_link("b", rb);
    b->want_leases({"t"});
    ASSERT_TRUE(loop_.run_until([&] { return rb.is_up(); }));

    const auto abandoned = clock::now();
    a->abandon();
    ASSERT_TRUE(loop_.run_until([&] { return rb.holds("t"); }, 2s));
    // A's last renewal was at most one round before: the key lived on for most of the ttl.
    EXPECT_GE(clock::now() - abandoned, 400ms);
    EXPECT_EQ(rb.leases.back().gained, std::vector<std::string>{"t"});
}

TEST_F(LinkLeasesTest, NameNoLongerWantedIsGivenBackAtOnce) {
    recorder ra, rb;
    auto a = make_link("a", ra, 5s);
    a->want_leases({"x", "y"});
    ASSERT_TRUE(loop_.run_until([&] { return ra.holds("x") && ra.holds("y"); }));
    auto b = make_link("b", rb, 5s);
    b->want_leases({"x", "y"});
    ASSERT_TRUE(loop_.run_until([&] { return rb.is_up(); }));

    a->want_leases({"y"});
    EXPECT_FALSE(a->owns("x")) << "at once, before any round";
    ASSERT_TRUE(loop_.run_until([&] { return rb.holds("x") && !ra.holds("x"); }, 1s));
    EXPECT_TRUE(a->owns("y"));
    EXPECT_FALSE(b->owns("y"));
    EXPECT_EQ(rb.leases.back().others.at("y"), "a");
}

TEST_F(LinkLeasesTest, ReportNamesTheHolderOfWhatIsNotHeld) {
    recorder ra, rb;
    auto a = make_link("a", ra);
    a->want_leases({"t"});
    ASSERT_TRUE(loop_.run_until([&] { return ra.holds("t"); }));
    auto b = make_link("b", rb);
    b->want_leases({"t", "u"});
    ASSERT_TRUE(loop_.run_until([&] { return rb.holds("u"); }));
    EXPECT_EQ(rb.leases.back().others.at("t"), "a");
}

TEST_F(LinkLeasesTest, HolderIsKnownToANodeHoldingNothingAndFollowsATakeover) {
    recorder ra, rb, rc;
    auto a = make_link("a", ra);
    a->want_leases({"t"});
    ASSERT_TRUE(loop_.run_until([&] { return ra.holds("t"); }));
    EXPECT_EQ(a->holder("t"), "a");
    auto c = make_link("c", rc);
    c->want_leases({"t"});
    ASSERT_TRUE(loop_.run_until([&] { return c->holder("t") == "a"; }));
    EXPECT_TRUE(rc.leases.empty()) << "c holds nothing: it was never told, yet it knows";
    EXPECT_EQ(c->holder("unwanted"), "");
    // a crashes; b wants it too: once the ttl runs out one of b and c has it, and c says which.
    auto b = make_link("b", rb);
    b->want_leases({"t"});
    a->abandon();
    ASSERT_TRUE(loop_.run_until([&] { return rb.holds("t") || rc.holds("t"); }));
    ASSERT_TRUE(loop_.run_until([&] { return c->holder("t") == (rb.holds("t") ? "b" : "c"); }));
}

}  // namespace
}  // namespace b2b::cluster
