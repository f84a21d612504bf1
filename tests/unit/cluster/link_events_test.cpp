// link, events: what one node publishes reaches the others, in order, from where they start.
#include "cluster/link.hpp"

#include "link_harness.hpp"
#include "redis_server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <thread>

namespace b2b::cluster {
namespace {

using namespace test;

class LinkEventsTest : public testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(server_.start()); }

    std::unique_ptr<link> make_link(const std::string& node, recorder& r,
                                    std::string start_after = "0") {
        auto o = test_options(node, server_.port());
        o.start_after = std::move(start_after);
        return std::make_unique<link>(loop_.executor(), o, r.handlers());
    }

    redis_server server_;
    handler_loop loop_;
};

TEST_F(LinkEventsTest, EventReachesTheOtherNodeAndNotItsOwn) {
    recorder ra, rb;
    auto a = make_link("a", ra);
    auto b = make_link("b", rb);
    ASSERT_TRUE(loop_.run_until([&] { return ra.is_up() && rb.is_up(); }));
    EXPECT_TRUE(a->up());
    ASSERT_EQ(ra.statuses.size(), 1u) << "up reported once";

    const std::string body{"ban\0192.0.2.1", 13};
    ASSERT_TRUE(a->publish("ban", body));
    ASSERT_TRUE(loop_.run_until([&] { return !rb.events.empty(); }, 1s)) << "within a second";
    EXPECT_EQ(rb.events[0].node, "a");
    EXPECT_EQ(rb.events[0].kind, "ban");
    EXPECT_EQ(rb.events[0].body, body);
    ASSERT_TRUE(loop_.run_until(
        [&] { return a->counters().published == 1 && b->last_delivered_id() == rb.events[0].id; }));
    loop_.run_for(150ms);  // A has read the stream past its own event by now
    EXPECT_TRUE(ra.events.empty());
    EXPECT_EQ(a->last_delivered_id(), rb.events[0].id) << "own events count as delivered";
    EXPECT_EQ(b->counters().received, 1u);
}

TEST_F(LinkEventsTest, OwnEventsPassInTheirPlaceAmongTheOthers) {
    recorder ra, rb;
    std::vector<std::string> seen_by_a;  // in stream order: others' and own, each marked
    auto ha = ra.handlers();
    ha.on_event = [&](const event& e) { seen_by_a.push_back(e.node + ":" + e.body); };
    ha.on_own_event = [&](const event& e) { seen_by_a.push_back("own " + e.node + ":" + e.body); };
    auto a = std::make_unique<link>(loop_.executor(), test_options("a", server_.port()), ha);
    auto b = make_link("b", rb);
    ASSERT_TRUE(loop_.run_until([&] { return a->up() && rb.is_up(); }));
    ASSERT_TRUE(b->publish("change", "1"));
    ASSERT_TRUE(loop_.run_until([&] { return !seen_by_a.empty(); }));
    ASSERT_TRUE(a->publish("change", "2"));
    ASSERT_TRUE(b->publish("change", "3"));
    ASSERT_TRUE(loop_.run_until([&] { return seen_by_a.size() == 3; }));
    // "2" was added before "3" only if a's round came first: either way each in its place.
    EXPECT_EQ(seen_by_a[0], "b:1");
    EXPECT_TRUE((seen_by_a[1] == "own a:2" && seen_by_a[2] == "b:3") ||
                (seen_by_a[1] == "b:3" && seen_by_a[2] == "own a:2"))
        << seen_by_a[1] << ", " << seen_by_a[2];
    ASSERT_TRUE(loop_.run_until([&] { return rb.events.size() == 1; }));
    EXPECT_EQ(rb.events[0].body, "2") << "b's own are not among its others'";
    EXPECT_EQ(a->counters().received, 2u) << "only the others' count as received";
}

TEST_F(LinkEventsTest, CaughtUpOnceAfterEveryEventThereWasFromTheStart) {
    recorder ra, rb;
    auto a = make_link("a", ra);
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(a->publish("k", std::to_string(i)));
    ASSERT_TRUE(loop_.run_until([&] { return a->counters().published == 300; }));
    auto hb = rb.handlers();
    std::vector<std::size_t> caught_up_at;  // how many events b had when told
    hb.on_caught_up = [&] { caught_up_at.push_back(rb.events.size()); };
    auto b = std::make_unique<link>(loop_.executor(), test_options("b", server_.port()), hb);  // from "0"
    ASSERT_TRUE(loop_.run_until([&] { return !caught_up_at.empty(); }));
    EXPECT_EQ(caught_up_at[0], 300u) << "told only once every event there was is handed over";
    ASSERT_TRUE(a->publish("k", "later"));
    ASSERT_TRUE(loop_.run_until([&] { return rb.events.size() == 301; }));
    loop_.run_for(150ms);
    EXPECT_EQ(caught_up_at.size(), 1u) << "once";
}

TEST_F(LinkEventsTest, EventsArriveInTheOrderPublished) {
    recorder ra, rb;
    auto a = make_link("a", ra);
    auto b = make_link("b", rb);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(a->publish("k", std::to_string(i)));
    ASSERT_TRUE(loop_.run_until([&] { return rb.events.size() == 50; }));
    for (int i = 0; i < 50; ++i) EXPECT_EQ(rb.events[i].body, std::to_string(i));
}

TEST_F(LinkEventsTest, StartingAtTheEndSkipsEarlierEvents) {
    recorder ra, rb, rc;
    auto a = make_link("a", ra);
    auto b = make_link("b", rb);
    a->publish("k", "old");
    ASSERT_TRUE(loop_.run_until([&] { return rb.events.size() == 1; }));

    auto c = make_link("c", rc, "$");
    EXPECT_EQ(c->last_delivered_id(), "$");
    ASSERT_TRUE(loop_.run_until([&] { return rc.is_up(); }));
    EXPECT_EQ(c->last_delivered_id(), rb.events[0].id) << "\"$\" resolved to the stream's end";
    a->publish("k", "new");
    ASSERT_TRUE(loop_.run_until([&] { return rc.events.size() == 1 && rb.events.size() == 2; }));
    EXPECT_EQ(rc.events[0].body, "new");
    loop_.run_for(150ms);
    EXPECT_EQ(rc.events.size(), 1u);
}

TEST_F(LinkEventsTest, StartingAfterAnIdGetsExactlyTheLaterEvents) {
    recorder ra, rb, rd;
    auto a = make_link("a", ra);
    auto b = make_link("b", rb);
    for (const char* body : {"1", "2", "3"}) a->publish("k", body);
    ASSERT_TRUE(loop_.run_until([&] { return rb.events.size() == 3; }));

    auto d = make_link("d", rd, rb.events[0].id);
    ASSERT_TRUE(loop_.run_until([&] { return rd.events.size() == 2; }));
    loop_.run_for(150ms);
    ASSERT_EQ(rd.events.size(), 2u);
    EXPECT_EQ(rd.events[0], rb.events[1]);
    EXPECT_EQ(rd.events[1], rb.events[2]);
    EXPECT_EQ(d->last_delivered_id(), rb.events[2].id);
}

TEST_F(LinkEventsTest, NoHandlerRunsAfterStop) {
    recorder ra, rb;
    auto a = make_link("a", ra);
    auto b = make_link("b", rb);
    a->publish("k", "x");
    // Wait without running the handler loop: the event is read and its callback queued.
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (b->counters().received == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    ASSERT_EQ(b->counters().received, 1u);
    b->stop();
    loop_.run_for(100ms);
    EXPECT_TRUE(rb.events.empty());
    EXPECT_TRUE(rb.statuses.empty()) << "the queued up report did not run either";
}

TEST_F(LinkEventsTest, LinkMayBeDestroyedFromItsOwnHandler) {
    recorder ra;
    auto a = make_link("a", ra);
    std::unique_ptr<link> b;
    int events = 0;
    link_handlers h;
    h.on_event = [&](const event&) {
        ++events;
        b.reset();
    };
    auto o = test_options("b", server_.port());
    b = std::make_unique<link>(loop_.executor(), o, h);
    a->publish("k", "1");
    a->publish("k", "2");
    ASSERT_TRUE(loop_.run_until([&] { return b == nullptr; }));
    loop_.run_for(100ms);
    EXPECT_EQ(events, 1) << "the rest of the batch is dropped with the link";
}

TEST_F(LinkEventsTest, RightPasswordIsAcceptedWrongOneReported) {
    redis_server locked{{"--requirepass", "s3cret"}};
    ASSERT_TRUE(locked.start());
    recorder good, bad;
    auto o = test_options("a", locked.port());
    o.password = "s3cret";
    link a{loop_.executor(), o, good.handlers()};
    o.node_id = "b";
    o.password = "wrong";
    link b{loop_.executor(), o, bad.handlers()};
    ASSERT_TRUE(loop_.run_until([&] { return good.is_up() && bad.is_down(); }));
    EXPECT_NE(bad.statuses.back().reason.find("WRONGPASS"), std::string::npos)
        << bad.statuses.back().reason;
    EXPECT_EQ(bad.statuses.back().reason.find("wrong"), std::string::npos)
        << "no password in the report";
}

TEST(LinkOptions, BadOptionsAreRefusedAtStartup) {
    handler_loop loop;
    auto ok = test_options("a", 6379);
    auto refused = [&](auto change) {
        auto o = ok;
        change(o);
        EXPECT_THROW(link(loop.executor(), o), std::invalid_argument);
    };
    refused([](link_options& o) { o.node_id.clear(); });
    refused([](link_options& o) { o.port = 0; });
    refused([](link_options& o) { o.key_prefix.clear(); });
    refused([](link_options& o) { o.poll_interval = 0ms; });
    refused([](link_options& o) { o.start_after = "latest"; });
    refused([](link_options& o) { o.lease_ttl = 500ms; });
    refused([](link_options& o) { o.max_queued = 0; });
    EXPECT_NO_THROW(link(loop.executor(), ok));
}

TEST(LinkOptions, DefaultsAreValid) {
    handler_loop loop;
    link_options o;
    o.node_id = "a";
    o.port = redis_server::free_port();
    EXPECT_EQ(lease_margin(o), 1250ms);
    EXPECT_NO_THROW(link(loop.executor(), o));
}

}  // namespace
}  // namespace b2b::cluster
