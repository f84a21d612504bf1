// Tests for the RFC 3262 machines: RSeq numbering, retransmission timing, PRACK matching, RSeq order.
#include "dialog/prack.hpp"

#include <gtest/gtest.h>

#include <string>

namespace b2b::dialog {
namespace {

using namespace std::chrono_literals;
using uas = reliable_provisional_uas;

sip::message parse(const std::string& text) {
    auto m = sip::parse_message(text);
    EXPECT_TRUE(m.has_value());
    return m ? std::move(*m) : sip::message{};
}

std::string provisional(int status, const std::string& extra) {
    return "SIP/2.0 " + std::to_string(status) +
           " Session Progress\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\nFrom: <sip:a@x>;tag=a\r\n"
           "To: <sip:b@y>;tag=b\r\nCall-ID: c1\r\nCSeq: 7 INVITE\r\n" +
           extra + "Content-Length: 0\r\n\r\n";
}

TEST(prack_headers, rack_parses_the_three_parts_and_nothing_else) {
    EXPECT_EQ(parse_rack("776656 1 INVITE"), (rack_value{776656, 1, sip::method::invite}));
    EXPECT_EQ(parse_rack("  5\t 9   INVITE "), (rack_value{5, 9, sip::method::invite}));
    EXPECT_FALSE(parse_rack("5 9"));
    EXPECT_FALSE(parse_rack("5 9 INVITE extra"));
    EXPECT_FALSE(parse_rack("x 9 INVITE"));
    EXPECT_FALSE(parse_rack("5 99999999999 INVITE"));
    EXPECT_EQ(make_rack(12, 3), "12 3 INVITE");
    EXPECT_EQ(parse_rack(make_rack(4294967295u, 1))->rseq, 4294967295u);
}

TEST(prack_headers, rseq_is_a_positive_number) {
    EXPECT_EQ(parse_rseq(" 42 "), 42u);
    EXPECT_FALSE(parse_rseq("0"));
    EXPECT_FALSE(parse_rseq("-1"));
    EXPECT_FALSE(parse_rseq("4294967296"));
    EXPECT_FALSE(parse_rseq(""));
}

TEST(prack_headers, a_provisional_is_reliable_with_require_100rel_and_an_rseq) {
    EXPECT_EQ(reliable_rseq(parse(provisional(183, "Require: timer, 100rel\r\nRSeq: 9\r\n"))), 9u);
    EXPECT_FALSE(reliable_rseq(parse(provisional(183, "RSeq: 9\r\n"))));           // no Require
    EXPECT_FALSE(reliable_rseq(parse(provisional(183, "Require: 100rel\r\n"))));    // no RSeq
    EXPECT_FALSE(reliable_rseq(parse(provisional(183, "Supported: 100rel\r\nRSeq: 9\r\n"))));
    EXPECT_FALSE(reliable_rseq(parse(provisional(100, "Require: 100rel\r\nRSeq: 9\r\n"))));  // §3: never a 100
    EXPECT_TRUE(names_100rel(parse(provisional(180, "Supported: timer,100rel\r\n")), sip::header_id::supported));
    EXPECT_FALSE(names_100rel(parse(provisional(180, "Supported: 100relx\r\n")), sip::header_id::supported));
}

TEST(reliable_provisional_uas, numbers_each_provisional_one_above_the_last_and_one_at_a_time) {
    uas m(1000, 500ms);
    EXPECT_TRUE(m.can_send());
    EXPECT_EQ(m.send(false), 1000u);
    EXPECT_FALSE(m.can_send());
    EXPECT_FALSE(m.send(false));  // §3: not before the first is PRACKed
    EXPECT_TRUE(m.on_prack({1000, 7, sip::method::invite}, 7));
    EXPECT_EQ(m.current_state(), uas::state::idle);
    EXPECT_EQ(m.send(true), 1001u);
    EXPECT_EQ(m.last_rseq(), 1001u);
}

TEST(reliable_provisional_uas, retransmits_at_t1_doubling_and_gives_up_at_64_t1) {
    uas m(1, 500ms);
    ASSERT_TRUE(m.send(true));
    std::chrono::milliseconds at{0};
    std::vector<long long> retransmitted_at;
    while (true) {
        at += m.next_timer();
        const auto action = m.on_timer();
        if (action == uas::timer_action::give_up) break;
        ASSERT_EQ(action, uas::timer_action::retransmit);
        retransmitted_at.push_back(at.count());
    }
    // T1, 3T1, 7T1, 15T1, 31T1, 63T1: no T2 cap (§3), then 64*T1 with no PRACK.
    EXPECT_EQ(retransmitted_at, (std::vector<long long>{500, 1500, 3500, 7500, 15500, 31500}));
    EXPECT_EQ(at.count(), 32000);
    EXPECT_EQ(m.current_state(), uas::state::gave_up);
    EXPECT_EQ(m.on_timer(), uas::timer_action::none);
    EXPECT_FALSE(m.on_prack({1, 7, sip::method::invite}, 7));  // too late
    EXPECT_FALSE(m.send(false));
}

TEST(reliable_provisional_uas, prack_matches_rseq_cseq_and_method_or_nothing) {
    uas m(50, 500ms);
    ASSERT_EQ(m.send(true), 50u);
    EXPECT_TRUE(m.holds_back_2xx());
    EXPECT_FALSE(m.on_prack({49, 7, sip::method::invite}, 7));
    EXPECT_FALSE(m.on_prack({50, 8, sip::method::invite}, 7));
    EXPECT_FALSE(m.on_prack({50, 7, sip::method::bye}, 7));
    EXPECT_TRUE(m.holds_back_2xx());
    EXPECT_TRUE(m.on_prack({50, 7, sip::method::invite}, 7));
    EXPECT_FALSE(m.holds_back_2xx());
    EXPECT_FALSE(m.on_prack({50, 7, sip::method::invite}, 7));  // acknowledged already: 481
    EXPECT_EQ(m.on_timer(), uas::timer_action::none);           // the stale timer does nothing
}

TEST(reliable_provisional_uas, a_provisional_without_sdp_never_holds_back_the_2xx) {
    uas m(5, 500ms);
    ASSERT_TRUE(m.send(false));
    EXPECT_FALSE(m.holds_back_2xx());
}

TEST(reliable_provisional_uac, prack_only_the_next_rseq_of_each_early_dialog) {
    reliable_provisional_uac m;
    using v = reliable_provisional_uac::verdict;
    EXPECT_EQ(m.on_reliable("a", 700), v::in_order);  // §4: the first sets the count
    EXPECT_EQ(m.on_reliable("a", 700), v::duplicate);  // a retransmission
    EXPECT_EQ(m.on_reliable("a", 702), v::out_of_order);
    EXPECT_EQ(m.on_reliable("a", 701), v::in_order);
    EXPECT_EQ(m.on_reliable("a", 699), v::duplicate);
    EXPECT_EQ(m.on_reliable("b", 5), v::in_order);  // another fork counts on its own
    EXPECT_EQ(m.on_reliable("b", 6), v::in_order);
    EXPECT_EQ(m.on_reliable("a", 702), v::in_order);
}

}  // namespace
}  // namespace b2b::dialog
