// binding_maintenance: bindings removed at their expiry, CRLF keep-alives to those behind NAT.
#include "registration/registrar.hpp"

#include "sip/message/message.hpp"
#include "tests/fakes/manual_timer_service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace b2b::registration {
namespace {

using namespace std::chrono_literals;

sip::flow flow_from(std::string_view address, std::uint16_t port) {
    sip::flow f;
    f.local = {boost::asio::ip::make_address("10.0.0.1"), 5060};
    f.remote = {boost::asio::ip::make_address(std::string(address)), port};
    return f;
}

const sip::flow direct = flow_from("192.168.1.5", 5060);  // the Contact's own host:port
const sip::flow natted = flow_from("203.0.113.7", 31000);  // a NAT in front of 192.168.1.6

sip::message make_register(std::string_view contact, std::uint32_t expires, std::uint32_t cseq) {
    std::string text = "REGISTER sip:10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.5:5060;branch=z9hG4bK1\r\n"
                       "Max-Forwards: 70\r\nFrom: <sip:pbx@10.0.0.1>;tag=f1\r\nTo: <sip:pbx@10.0.0.1>\r\n"
                       "Call-ID: c1\r\n";
    text += "CSeq: " + std::to_string(cseq) + " REGISTER\r\n";
    text += "Contact: <" + std::string(contact) + ">\r\nExpires: " + std::to_string(expires) + "\r\n";
    text += "Content-Length: 0\r\n\r\n";
    auto m = sip::parse_message(text);
    EXPECT_TRUE(m.has_value()) << text;
    return m ? std::move(*m) : sip::message{};
}

struct sent {
    sip::flow to;
    std::string bytes;
};

class binding_maintenance_test : public ::testing::Test {
protected:
    static registrar_policy policy() {
        registrar_policy p;
        p.min_expires = 1s;
        return p;
    }

    void add(std::string_view contact, std::uint32_t expires, const sip::flow& source) {
        const auto r = reg.on_register("pbx", make_register(contact, expires, ++cseq), source, timers.now());
        ASSERT_EQ(r.status, 200);
        ASSERT_TRUE(r.changed);
    }

    binding_maintenance make(std::chrono::seconds keepalive) {
        return {reg, timers, keepalive, [this](const sip::flow& to, std::string_view bytes) {
                    out.push_back({to, std::string(bytes)});
                },
                [this] { ++changes; }};
    }

    test::manual_timer_service timers;
    registrar reg{policy()};
    std::vector<sent> out;
    int changes = 0;
    std::uint32_t cseq = 0;
};

TEST_F(binding_maintenance_test, a_binding_is_removed_exactly_at_its_expiry_and_on_change_is_told) {
    add("sip:a@192.168.1.5:5060", 120, direct);
    add("sip:b@192.168.1.5:5060", 300, direct);
    auto m = make(0s);
    m.start();
    timers.advance(120s - 1ms);
    EXPECT_EQ(reg.size(), 2u);
    EXPECT_EQ(changes, 0);
    timers.advance(1ms);
    EXPECT_EQ(reg.size(), 1u);
    EXPECT_EQ(changes, 1);
    EXPECT_EQ(reg.bindings_of("pbx", timers.now())[0]->contact, "sip:b@192.168.1.5:5060");
    // Re-armed after the sweep, for the next one.
    timers.advance(180s - 1ms);
    EXPECT_EQ(reg.size(), 1u);
    timers.advance(1ms);
    EXPECT_EQ(reg.size(), 0u);
    EXPECT_EQ(changes, 2);
    EXPECT_EQ(timers.pending(), 0u);  // nothing left to expire, no keep-alives
    EXPECT_TRUE(out.empty());
}

TEST_F(binding_maintenance_test, bindings_changed_rearms_the_expiry_timer) {
    auto m = make(0s);
    m.start();
    EXPECT_EQ(timers.pending(), 0u);
    add("sip:a@192.168.1.5:5060", 100, direct);
    m.bindings_changed();
    EXPECT_EQ(timers.pending(), 1u);
    timers.advance(50s);
    // A refresh moves the expiry on: nothing happens at the old one.
    add("sip:a@192.168.1.5:5060", 100, direct);
    m.bindings_changed();
    EXPECT_EQ(timers.pending(), 1u);
    timers.advance(50s);
    EXPECT_EQ(reg.size(), 1u);
    EXPECT_EQ(changes, 0);
    timers.advance(50s);
    EXPECT_EQ(reg.size(), 0u);
    EXPECT_EQ(changes, 1);
    // A shorter new binding brings the timer forward.
    add("sip:a@192.168.1.5:5060", 500, direct);
    m.bindings_changed();
    add("sip:b@192.168.1.5:5060", 10, direct);
    m.bindings_changed();
    timers.advance(10s);
    EXPECT_EQ(reg.size(), 1u);
    EXPECT_EQ(changes, 2);
}

TEST_F(binding_maintenance_test, on_change_may_call_bindings_changed_itself) {
    add("sip:a@192.168.1.5:5060", 10, direct);
    add("sip:b@192.168.1.5:5060", 20, direct);
    binding_maintenance* self = nullptr;
    binding_maintenance m(reg, timers, 0s, {}, [&] {
        ++changes;
        self->bindings_changed();
    });
    self = &m;
    m.start();
    timers.advance(20s);
    EXPECT_EQ(changes, 2);
    EXPECT_EQ(reg.size(), 0u);
    EXPECT_EQ(timers.pending(), 0u);
}

TEST_F(binding_maintenance_test, keep_alives_go_to_each_nat_binding_s_source_every_interval_until_it_expires) {
    add("sip:a@192.168.1.5:5060", 600, direct);
    add("sip:b@192.168.1.6:5060", 100, natted);
    auto m = make(30s);
    m.start();
    timers.advance(30s - 1ms);
    EXPECT_TRUE(out.empty());
    timers.advance(1ms);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].to, natted);
    EXPECT_EQ(out[0].bytes, "\r\n\r\n");
    timers.advance(30s);
    timers.advance(30s);
    EXPECT_EQ(out.size(), 3u);  // at 30, 60 and 90 s
    // b expires at 100 s: no keep-alive at 120 s or later; a, not behind NAT, never gets one.
    timers.advance(60s);
    EXPECT_EQ(out.size(), 3u);
    EXPECT_EQ(reg.size(), 1u);
    for (const sent& s : out) EXPECT_EQ(s.to, natted);
}

TEST_F(binding_maintenance_test, a_binding_expiring_at_the_keep_alive_instant_gets_none) {
    auto m = make(30s);
    m.start();
    add("sip:b@192.168.1.6:5060", 600, natted);
    m.bindings_changed();
    timers.advance(45s);
    EXPECT_EQ(out.size(), 1u);  // at 30 s; the next keep-alive is due at 60 s
    // Shortened to end at 60 s: its expiry timer, armed after the keep-alive's, runs second.
    add("sip:b@192.168.1.6:5060", 15, natted);
    m.bindings_changed();
    timers.advance(15s);
    EXPECT_EQ(out.size(), 1u);
    EXPECT_EQ(reg.size(), 0u);
    EXPECT_EQ(changes, 1);
}

TEST_F(binding_maintenance_test, keep_alives_tick_only_while_a_binding_is_behind_nat) {
    auto m = make(30s);
    m.start();
    EXPECT_EQ(timers.pending(), 0u);  // no binding: nothing ticks
    timers.advance(45s);
    add("sip:b@192.168.1.6:5060", 60, natted);
    m.bindings_changed();
    timers.advance(29s);
    EXPECT_TRUE(out.empty());
    timers.advance(1s);  // an interval after it appeared
    EXPECT_EQ(out.size(), 1u);
    timers.advance(30s);  // it expires at this instant: no keep-alive, and the ticking stops
    EXPECT_EQ(out.size(), 1u);
    timers.advance(30s);
    EXPECT_EQ(timers.pending(), 0u);
}

TEST_F(binding_maintenance_test, keepalive_zero_sends_none) {
    add("sip:b@192.168.1.6:5060", 600, natted);
    auto m = make(0s);
    m.start();
    EXPECT_EQ(timers.pending(), 1u);  // the expiry timer only
    timers.advance(599s);
    EXPECT_TRUE(out.empty());
}

TEST_F(binding_maintenance_test, destruction_cancels_its_timers) {
    add("sip:b@192.168.1.6:5060", 600, natted);
    {
        auto m = make(30s);
        m.start();
        EXPECT_EQ(timers.pending(), 2u);
    }
    EXPECT_EQ(timers.pending(), 0u);
    timers.advance(700s);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(reg.size(), 1u);
}

}  // namespace
}  // namespace b2b::registration
