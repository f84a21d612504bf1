// Tests for the loopback_transport fake that the transaction and B2BUA tests rely on.
#include "tests/fakes/loopback_transport.hpp"

#include "tests/fakes/manual_timer_service.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace b2b::sip {
namespace {

using namespace std::chrono_literals;

class recording_transport_user final : public transport_user {
public:
    struct received {
        std::string bytes;
        flow from;
        framing fr;
    };
    void on_bytes(std::string_view bytes, const flow& f, framing fr) override {
        got.push_back({std::string(bytes), f, fr});
    }
    void on_framing_error(std::string_view, const flow&, const parse_error&) override {}
    void on_flow_closed(const flow& f, boost::system::error_code ec) override {
        closed.emplace_back(f, ec);
    }

    std::vector<received> got;
    std::vector<std::pair<flow, boost::system::error_code>> closed;
};

const endpoint a_end{boost::asio::ip::make_address("127.0.0.1"), 5061};
const endpoint b_end{boost::asio::ip::make_address("127.0.0.1"), 5062};

TEST(loopback_transport, records_sends_and_injects_input) {
    test::loopback_transport t{a_end};
    recording_transport_user user;
    t.set_user(&user);
    auto f = t.flow_to(transport_kind::udp, b_end);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->local, a_end);
    EXPECT_EQ(f->remote, b_end);
    EXPECT_EQ(f->connection, 0U);
    EXPECT_FALSE(t.send(*f, "one"));
    EXPECT_FALSE(t.send(*f, "two"));
    ASSERT_EQ(t.sent().size(), 2U);
    EXPECT_EQ(t.sent_bytes(1), "two");
    EXPECT_EQ(t.sent()[0].flow, *f);

    t.inject_from(b_end, "hello");
    ASSERT_EQ(user.got.size(), 1U);
    EXPECT_EQ(user.got[0].bytes, "hello");
    EXPECT_EQ(user.got[0].from.remote, b_end);
    EXPECT_EQ(user.got[0].fr, framing::datagram);

    t.close_flow(*f);
    ASSERT_EQ(user.closed.size(), 1U);
    EXPECT_TRUE(user.closed[0].second);
}

TEST(loopback_transport, injected_failures) {
    test::loopback_transport t{a_end};
    const flow f = *t.flow_to(transport_kind::udp, b_end);
    t.fail_send_number(1);
    EXPECT_FALSE(t.send(f, "0"));
    EXPECT_TRUE(t.send(f, "1"));
    EXPECT_FALSE(t.send(f, "2"));
    t.fail_sends(make_error_code(boost::system::errc::broken_pipe));
    EXPECT_EQ(t.send(f, "3"), boost::system::errc::broken_pipe);
    t.stop_failing();
    t.fail_if([](const flow&, std::string_view b) { return b.starts_with("ACK"); });
    EXPECT_TRUE(t.send(f, "ACK x"));
    EXPECT_FALSE(t.send(f, "BYE x"));
    EXPECT_EQ(t.send_attempts(), 6U);
    EXPECT_EQ(t.failed_sends(), 3U);
    ASSERT_EQ(t.sent().size(), 3U);  // failed sends are not recorded
    EXPECT_EQ(t.sent_bytes(2), "BYE x");
}

TEST(loopback_transport, a_closed_connection_is_gone_like_a_real_one) {
    test::loopback_transport t{a_end};
    recording_transport_user user;
    t.set_user(&user);
    const flow first = *t.flow_to(transport_kind::tcp, b_end);
    EXPECT_EQ(t.flow_to(transport_kind::tcp, b_end)->connection, first.connection);  // reused while open
    EXPECT_FALSE(t.send(first, "before"));
    t.close_flow(first);
    ASSERT_EQ(user.closed.size(), 1U);
    EXPECT_EQ(t.send(first, "after"), boost::system::errc::not_connected);
    EXPECT_EQ(t.sent().size(), 1U);  // nothing recorded for the failed send
    const flow second = *t.flow_to(transport_kind::tcp, b_end);
    EXPECT_NE(second.connection, first.connection);  // a new connection to the same remote
    EXPECT_FALSE(t.send(second, "again"));
    // An injected peer connection (no flow_to) closes the same way.
    const flow inbound{transport_kind::tcp, a_end, b_end, 99};
    EXPECT_FALSE(t.send(inbound, "reply"));
    t.close_flow(inbound);
    EXPECT_EQ(t.send(inbound, "late"), boost::system::errc::not_connected);
}

TEST(loopback_transport, linked_ends_deliver_on_demand_never_synchronously) {
    test::loopback_transport a{a_end};
    test::loopback_transport b{b_end};
    test::loopback_transport::link(a, b);
    recording_transport_user a_user;
    recording_transport_user b_user;
    a.set_user(&a_user);
    b.set_user(&b_user);

    const flow to_b = *a.flow_to(transport_kind::tcp, b_end);
    EXPECT_NE(to_b.connection, 0U);
    EXPECT_FALSE(a.send(to_b, "request"));
    EXPECT_TRUE(b_user.got.empty());
    EXPECT_EQ(b.queued(), 1U);
    EXPECT_EQ(b.deliver_pending(), 1U);
    ASSERT_EQ(b_user.got.size(), 1U);
    const flow& in = b_user.got[0].from;
    EXPECT_EQ(in.local, b_end);
    EXPECT_EQ(in.remote, a_end);
    EXPECT_EQ(in.connection, to_b.connection);  // both ends name the connection alike
    EXPECT_EQ(b_user.got[0].fr, framing::stream);
    EXPECT_EQ(b.flow_to(transport_kind::tcp, a_end)->connection, to_b.connection);

    // A reply on the flow it came in on reaches the other end.
    EXPECT_FALSE(b.send(in, "response"));
    EXPECT_EQ(a.deliver_pending(), 1U);
    ASSERT_EQ(a_user.got.size(), 1U);
    EXPECT_EQ(a_user.got[0].bytes, "response");

    // Messages to an endpoint that is not the peer are recorded but go nowhere.
    const endpoint elsewhere{boost::asio::ip::make_address("127.0.0.1"), 9};
    EXPECT_FALSE(a.send(*a.flow_to(transport_kind::udp, elsewhere), "lost"));
    EXPECT_EQ(b.queued(), 0U);
}

TEST(loopback_transport, linked_ends_with_a_clock_deliver_after_the_latency) {
    test::manual_timer_service clock;
    test::loopback_transport a{a_end};
    test::loopback_transport b{b_end};
    test::loopback_transport::link(a, b, &clock, 5ms);
    recording_transport_user b_user;
    b.set_user(&b_user);
    const flow f = *a.flow_to(transport_kind::udp, b_end);
    a.send(f, "1");
    a.send(f, "2");
    clock.advance(4ms);
    EXPECT_TRUE(b_user.got.empty());
    clock.advance(1ms);
    ASSERT_EQ(b_user.got.size(), 2U);
    EXPECT_EQ(b_user.got[0].bytes, "1");
    EXPECT_EQ(b_user.got[1].bytes, "2");
    EXPECT_EQ(clock.pending(), 0U);
}

TEST(loopback_transport, destruction_cancels_scheduled_deliveries) {
    test::manual_timer_service clock;
    test::loopback_transport a{a_end};
    {
        test::loopback_transport b{b_end};
        test::loopback_transport::link(a, b, &clock, 5ms);
        a.send(*a.flow_to(transport_kind::udp, b_end), "x");
        EXPECT_EQ(clock.pending(), 1U);
    }
    EXPECT_EQ(clock.pending(), 0U);
    EXPECT_FALSE(a.send(*a.flow_to(transport_kind::udp, b_end), "y"));  // peer gone: recorded only
    EXPECT_EQ(clock.pending(), 0U);
}

}  // namespace
}  // namespace b2b::sip
