// Trunk selection through the actors harness: failover, out of service, limits, health.
#include "call_flow.hpp"

#include <set>

namespace b2b::b2bua::test {
namespace {

using namespace std::chrono_literals;

/// One PBX and two trunks on one route: carrier first, backup second.
class failover_flow : public ::testing::Test, public b2bua_harness {
protected:
    explicit failover_flow(std::string carrier_extra = {}, std::string backup_extra = {})
        : b2bua_harness({numbered_trunk(1, "carrier", "", std::move(carrier_extra)),
                         numbered_trunk(2, "backup", "", std::move(backup_extra))},
                        "  - { prefix: \"\", trunks: [ carrier, backup ] }\n") {}
    void TearDown() override { expect_no_strays(); }

    /// The call's INVITE as `t` sees it, after the PBX authenticated.
    sip::message invite_to(trunk_actor& t, pbx_call& c) { return authenticated_invite(pbx, c, t); }

    /// `t` rings and answers; the PBX ACKs.
    void answer(trunk_actor& t, const sip::message& invite, pbx_call& c) {
        t.ringing(invite);
        auto ringing = pbx.expect("SIP/2.0 180");
        c.to_tag = std::string(ringing.to().tag);
        t.ok(invite);
        pbx.expect("SIP/2.0 200");
        pbx.ack(c);
        t.expect("ACK");
    }

    /// `t` answers 486; the PBX gets it and ACKs.
    void busy(trunk_actor& t, const sip::message& invite, pbx_call& c) {
        t.respond(invite, 486, "Busy Here");
        t.expect("ACK");
        pbx.ack_failure(c, pbx.expect("SIP/2.0 486"));
    }

    void hang_up(trunk_actor& t, pbx_call& c) {
        pbx.bye(c);
        pbx.expect("SIP/2.0 200");
        auto bye = t.expect("BYE");
        t.respond(bye, 200, "OK");
    }

    double failovers(const std::string& from, const std::string& to, const std::string& status) {
        return counter("b2bua_trunk_failovers_total", {{"from", from}, {"to", to}, {"status", status}});
    }

    pbx_actor& pbx = add_pbx("pbx");
    trunk_actor& carrier = trunk_named("carrier");
    trunk_actor& backup = trunk_named("backup");
};

TEST_F(failover_flow, every_pair_of_the_route_and_both_trunks_exist_in_the_metrics_from_start) {
    EXPECT_EQ(failovers("carrier", "backup", "503"), 0);
    EXPECT_EQ(failovers("carrier", "backup", "timeout"), 0);
    EXPECT_EQ(failovers("carrier", "backup", "limit"), 0);
    EXPECT_EQ(failovers("carrier", "backup", "down"), 0);
    EXPECT_EQ(counter("b2bua_trunk_up", {{"trunk", "carrier"}}), 1);  // health off: up
    EXPECT_EQ(counter("b2bua_trunk_up", {{"trunk", "backup"}}), 1);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", ""}, {"result", "limit"}}), 0);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", ""}, {"result", "unavailable"}}), 0);
}

TEST_F(failover_flow, a_503_moves_the_call_to_the_next_trunk_in_a_new_dialog) {
    pbx_call c = pbx.new_call();
    auto first = invite_to(carrier, c);
    carrier.respond(first, 503, "Service Unavailable");
    carrier.expect("ACK");
    auto second = backup.expect("INVITE");
    // A new dialog: nothing of the first attempt goes on.
    EXPECT_NE(second.call_id(), first.call_id());
    EXPECT_NE(second.from().tag, first.from().tag);
    EXPECT_EQ(second.request_uri().user, "1000");
    EXPECT_EQ(second.find(sip::header_id::authorization), nullptr);  // carrier's credentials stay there
    pbx.expect_nothing();  // the caller saw only its 100 Trying
    answer(backup, second, c);
    EXPECT_EQ(failovers("carrier", "backup", "503"), 1);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "backup"}, {"result", "answered"}}), 1);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "carrier"}}), 0);
    hang_up(backup, c);
    EXPECT_EQ(b2b.active_calls(), 0u);
    EXPECT_EQ(b2b.dialogs(), 0u);
}

TEST_F(failover_flow, with_no_trunk_left_the_caller_gets_the_last_answer) {
    pbx_call c = pbx.new_call();
    auto first = invite_to(carrier, c);
    carrier.respond(first, 503, "Service Unavailable");
    carrier.expect("ACK");
    auto second = backup.expect("INVITE");
    backup.respond(second, 500, "Server Internal Error", {{"Retry-After", "10"}});
    backup.expect("ACK");
    auto final = pbx.expect("SIP/2.0 500");
    EXPECT_EQ(header(final, sip::header_id::retry_after), "10");
    pbx.ack_failure(c, final);
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "backup"}, {"result", "rejected"}}), 1);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(failover_flow, a_503_with_retry_after_takes_the_trunk_out_of_service_for_that_long) {
    pbx_call c1 = pbx.new_call();
    auto first = invite_to(carrier, c1);
    carrier.respond(first, 503, "Service Unavailable", {{"Retry-After", "30"}});
    carrier.expect("ACK");
    busy(backup, backup.expect("INVITE"), c1);

    clock.advance(29s);
    pbx_call c2 = pbx.new_call();
    busy(backup, invite_to(backup, c2), c2);  // carrier skipped
    carrier.expect_nothing();
    EXPECT_EQ(failovers("carrier", "backup", "out_of_service"), 1);

    clock.advance(1s);
    pbx_call c3 = pbx.new_call();
    busy(carrier, invite_to(carrier, c3), c3);  // back in service
    EXPECT_EQ(failovers("carrier", "backup", "out_of_service"), 1);
}

TEST_F(failover_flow, a_challenge_restarts_the_wait_for_a_provisional) {
    pbx_call c = pbx.new_call();
    auto first = invite_to(carrier, c);
    clock.advance(3s);
    carrier.take_matching("INVITE");  // retransmissions
    carrier.challenge(first);          // late, but the trunk is there
    auto retries = carrier.take_matching("INVITE");
    ASSERT_EQ(retries.size(), 1u);
    clock.advance(3999ms);             // 7 s after the first INVITE, 4 s after the challenge
    backup.expect_nothing();
    carrier.ringing(retries.front());
    pbx.take_matching("SIP/2.0 180");
    clock.advance(10s);
    backup.expect_nothing();
    EXPECT_EQ(failovers("carrier", "backup", "timeout"), 0);
}

TEST_F(failover_flow, a_trunk_silent_for_invite_timeout_is_given_up_and_its_late_200_acked_and_ended) {
    pbx_call c = pbx.new_call();
    auto first = invite_to(carrier, c);
    clock.advance(3999ms);
    EXPECT_EQ(carrier.take_matching("INVITE").size(), 3u);  // Timer A: 0.5, 1.5, 3.5 s
    backup.expect_nothing();
    clock.advance(1ms);  // invite_timeout_ms: 4000
    auto second = backup.expect("INVITE");
    EXPECT_NE(second.call_id(), first.call_id());
    EXPECT_EQ(failovers("carrier", "backup", "timeout"), 1);
    backup.ringing(second);
    c.to_tag = std::string(pbx.expect("SIP/2.0 180").to().tag);
    // §9.1: no CANCEL before a provisional; the given-up INVITE is not retransmitted either.
    clock.advance(20s);
    carrier.expect_nothing();
    backup.ok(second);
    pbx.expect("SIP/2.0 200");
    pbx.ack(c);
    backup.expect("ACK");

    // The carrier answers after all: its 200 is ACKed and its dialog ended, unseen by the PBX.
    carrier.ok(first);
    auto got = carrier.take();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].method(), sip::method::ack);
    EXPECT_EQ(got[1].method(), sip::method::bye);
    EXPECT_EQ(got[1].call_id(), first.call_id());
    EXPECT_EQ(got[1].to().tag, carrier.tag());
    carrier.respond(got[1], 200, "OK");
    carrier.ok(first);  // a retransmission gets the ACK again, not a second BYE
    auto again = carrier.take();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].method(), sip::method::ack);
    pbx.expect_nothing();
    EXPECT_EQ(b2b.active_calls(), 1u);
    hang_up(backup, c);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(failover_flow, a_late_provisional_on_a_given_up_invite_gets_its_cancel) {
    pbx_call c = pbx.new_call();
    auto first = invite_to(carrier, c);
    clock.advance(4s);
    carrier.take();
    auto second = backup.expect("INVITE");
    backup.ringing(second);
    pbx.expect("SIP/2.0 180");
    carrier.ringing(first);
    auto cancel = carrier.expect("CANCEL");
    EXPECT_EQ(cancel.call_id(), first.call_id());
    pbx.expect_nothing();  // carrier's 180 is not relayed
    carrier.respond(cancel, 200, "OK");
    carrier.respond(first, 487, "Request Terminated");
    carrier.expect("ACK");
    pbx.cancel(c);
    pbx.take();
    auto cancel2 = backup.expect("CANCEL");
    backup.respond(cancel2, 200, "OK");
    backup.respond(second, 487, "Request Terminated");
    backup.expect("ACK");
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(failover_flow, no_trunk_answering_in_time_gives_408) {
    pbx_call c = pbx.new_call();
    invite_to(carrier, c);
    clock.advance(4s);
    carrier.take();
    backup.expect("INVITE");
    clock.advance(4s);
    backup.take();
    pbx.expect("SIP/2.0 408");
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "backup"}, {"result", "timeout"}}), 1);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(failover_flow, busy_describes_the_call_and_never_fails_over) {
    pbx_call c = pbx.new_call();
    auto first = invite_to(carrier, c);
    busy(carrier, first, c);
    backup.expect_nothing();
    for (const char* code : {"503", "timeout", "transport", "auth"}) EXPECT_EQ(failovers("carrier", "backup", code), 0);
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(failover_flow, not_found_and_decline_never_fail_over) {
    for (const auto& [code, reason] : {std::pair{404, "Not Found"}, std::pair{603, "Decline"}}) {
        pbx_call c = pbx.new_call();
        auto first = invite_to(carrier, c);
        carrier.respond(first, code, reason);
        carrier.expect("ACK");
        pbx.ack_failure(c, pbx.expect("SIP/2.0 " + std::to_string(code)));
        backup.expect_nothing();
    }
}

TEST_F(failover_flow, after_a_provisional_with_sdp_the_call_is_committed_to_the_trunk) {
    pbx_call c = pbx.new_call();
    auto first = invite_to(carrier, c);
    carrier.respond(first, 183, "Session Progress", {{"Contact", carrier.contact()}}, trunk_actor::sdp_answer);
    pbx.expect("SIP/2.0 183");
    carrier.respond(first, 503, "Service Unavailable");
    carrier.expect("ACK");
    pbx.ack_failure(c, pbx.expect("SIP/2.0 503"));
    backup.expect_nothing();
    EXPECT_EQ(failovers("carrier", "backup", "503"), 0);
}

TEST_F(failover_flow, a_provisional_without_sdp_does_not_commit) {
    pbx_call c = pbx.new_call();
    auto first = invite_to(carrier, c);
    carrier.ringing(first);
    auto ringing = pbx.expect("SIP/2.0 180");
    carrier.respond(first, 503, "Service Unavailable");
    carrier.expect("ACK");
    auto second = backup.expect("INVITE");
    backup.ringing(second);
    EXPECT_EQ(pbx.expect("SIP/2.0 180").to().tag, ringing.to().tag);  // one dialog for the caller
    busy(backup, second, c);
    EXPECT_EQ(failovers("carrier", "backup", "503"), 1);
}

TEST_F(failover_flow, after_the_caller_cancelled_nothing_fails_over) {
    pbx_call c = pbx.new_call();
    auto first = invite_to(carrier, c);
    carrier.ringing(first);
    pbx.expect("SIP/2.0 180");
    pbx.cancel(c);
    pbx.take();  // 200 to the CANCEL, 487
    auto cancel = carrier.expect("CANCEL");
    carrier.respond(cancel, 200, "OK");
    carrier.respond(first, 503, "Service Unavailable");  // instead of 487
    carrier.expect("ACK");
    backup.expect_nothing();
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(failover_flow, a_trunk_refusing_our_credentials_fails_over_when_another_remains) {
    pbx_call c = pbx.new_call();
    auto first = invite_to(carrier, c);
    carrier.challenge(first);
    auto retry = carrier.take_matching("INVITE");
    ASSERT_EQ(retry.size(), 1u);
    carrier.challenge(retry[0]);  // our credentials refused
    carrier.expect("ACK");
    auto second = backup.expect("INVITE");
    EXPECT_EQ(failovers("carrier", "backup", "auth"), 1);
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"peer", "carrier"}, {"reason", "rejected"}}), 1);
    answer(backup, second, c);
    hang_up(backup, c);
}

TEST_F(failover_flow, an_unreachable_trunk_fails_over_after_invite_timeout) {
    // Over UDP a failed send is a lost datagram (the retransmissions retry it), so a trunk
    // whose address cannot be reached at all is one that never answers.
    const auto carrier_address = carrier.address();
    net.fail_if([carrier_address](const sip::flow& f, std::string_view) { return f.remote == carrier_address; });
    pbx_call c = pbx.new_call();
    pbx.invite(c);
    pbx.authenticate(c, pbx.expect("SIP/2.0 407"));
    pbx.take();
    clock.advance(4s);
    auto second = backup.expect("INVITE");
    carrier.expect_nothing();
    EXPECT_EQ(failovers("carrier", "backup", "timeout"), 1);
    answer(backup, second, c);
    hang_up(backup, c);
    net.stop_failing();
}

/// carrier: max_calls 1.
class carrier_max_calls : public failover_flow {
protected:
    carrier_max_calls() : failover_flow("max_calls: 1") {}
};

TEST_F(carrier_max_calls, a_trunk_at_max_calls_is_skipped_until_a_call_ends) {
    pbx_call c1 = pbx.new_call();
    auto first = invite_to(carrier, c1);
    answer(carrier, first, c1);
    pbx_call c2 = pbx.new_call();
    auto second = invite_to(backup, c2);  // carrier full
    carrier.expect_nothing();
    EXPECT_EQ(failovers("carrier", "backup", "limit"), 1);
    busy(backup, second, c2);
    hang_up(carrier, c1);
    pbx_call c3 = pbx.new_call();
    busy(carrier, invite_to(carrier, c3), c3);
    EXPECT_EQ(failovers("carrier", "backup", "limit"), 1);
}

TEST_F(carrier_max_calls, a_failed_attempt_gives_its_slot_back_at_once) {
    pbx_call c1 = pbx.new_call();
    busy(carrier, invite_to(carrier, c1), c1);
    pbx_call c2 = pbx.new_call();
    busy(carrier, invite_to(carrier, c2), c2);
    EXPECT_EQ(failovers("carrier", "backup", "limit"), 0);
}

/// carrier: max_cps 1.
class carrier_max_cps : public failover_flow {
protected:
    carrier_max_cps() : failover_flow("max_cps: 1") {}
};

TEST_F(carrier_max_cps, a_trunk_over_max_cps_is_skipped_within_the_second) {
    pbx_call c1 = pbx.new_call();
    auto first = invite_to(carrier, c1);
    carrier.ringing(first);
    pbx.expect("SIP/2.0 180");
    clock.advance(900ms);
    pbx_call c2 = pbx.new_call();
    busy(backup, invite_to(backup, c2), c2);
    EXPECT_EQ(failovers("carrier", "backup", "limit"), 1);
    clock.advance(100ms);
    pbx_call c3 = pbx.new_call();
    busy(carrier, invite_to(carrier, c3), c3);
    busy(carrier, first, c1);
}

/// Both trunks: max_calls 1.
class both_max_calls : public failover_flow {
protected:
    both_max_calls() : failover_flow("max_calls: 1", "max_calls: 1") {}
};

TEST_F(both_max_calls, with_every_trunk_busy_the_pbx_gets_503_with_retry_after_counted_as_limit) {
    pbx_call c1 = pbx.new_call();
    answer(carrier, invite_to(carrier, c1), c1);
    pbx_call c2 = pbx.new_call();
    answer(backup, invite_to(backup, c2), c2);
    pbx_call c3 = pbx.new_call();
    pbx.invite(c3);
    pbx.authenticate(c3, pbx.expect("SIP/2.0 407"));
    auto refused = pbx.expect("SIP/2.0 503");
    EXPECT_FALSE(header(refused, sip::header_id::retry_after).empty());
    pbx.ack_failure(c3, refused);
    carrier.expect_nothing();
    backup.expect_nothing();
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", ""}, {"result", "limit"}}), 1);
    EXPECT_EQ(b2b.active_calls(), 2u);
    hang_up(carrier, c1);
    hang_up(backup, c2);
}

/// carrier: OPTIONS every 10 s, down after 3 failures, up after 2 answers.
class carrier_health : public failover_flow {
protected:
    carrier_health() : failover_flow("options_interval_s: 10") {}

    /// The newest OPTIONS ping the carrier received (retransmissions and older pings aside).
    sip::message newest_ping() {
        std::optional<sip::message> newest;
        for (auto& m : carrier.take_matching("OPTIONS")) {
            if (seen_.insert(std::string(m.call_id())).second) newest = std::move(m);
        }
        EXPECT_TRUE(newest.has_value());
        return newest ? std::move(*newest) : sip::message{};
    }
    double up(const std::string& trunk) { return counter("b2bua_trunk_up", {{"trunk", trunk}}); }

    std::set<std::string> seen_;
};

TEST_F(carrier_health, pings_go_through_the_request_sender_and_answer_challenges) {
    auto ping = newest_ping();  // the first one at start
    EXPECT_EQ(ping.request_uri().text, "sip:" + carrier.host_port());
    EXPECT_FALSE(ping.from().tag.empty());
    backup.expect_nothing();  // no pings where options_interval_s is 0
    carrier.challenge(ping);
    auto retry = carrier.take_matching("OPTIONS");
    ASSERT_EQ(retry.size(), 1u);
    EXPECT_NE(retry[0].find(sip::header_id::authorization), nullptr);
    EXPECT_EQ(retry[0].call_id(), ping.call_id());
    carrier.respond(retry[0], 200, "OK");
    clock.advance(10s);
    EXPECT_EQ(up("carrier"), 1);
    newest_ping();
}

TEST_F(carrier_health, a_silent_trunk_goes_down_is_skipped_and_comes_back_up) {
    newest_ping();
    clock.advance(10s);  // first ping unanswered
    newest_ping();
    clock.advance(10s);  // second
    newest_ping();
    EXPECT_EQ(up("carrier"), 1);
    clock.advance(10s);  // third: down
    EXPECT_EQ(up("carrier"), 0);
    EXPECT_EQ(up("backup"), 1);

    pbx_call c1 = pbx.new_call();
    busy(backup, invite_to(backup, c1), c1);
    EXPECT_EQ(failovers("carrier", "backup", "down"), 1);

    // A 503 to a ping does not count as an answer: the trunk says it cannot serve.
    carrier.respond(newest_ping(), 503, "Service Unavailable");
    clock.advance(10s);
    carrier.respond(newest_ping(), 200, "OK");
    EXPECT_EQ(up("carrier"), 0);  // one answer is not enough
    clock.advance(10s);
    carrier.respond(newest_ping(), 404, "Not Found");  // any other final answer shows it alive
    EXPECT_EQ(up("carrier"), 1);

    pbx_call c2 = pbx.new_call();
    busy(carrier, invite_to(carrier, c2), c2);
    EXPECT_EQ(failovers("carrier", "backup", "down"), 1);
}

/// carrier down (health) and backup out of service: 503, counted as unavailable.
TEST_F(carrier_health, with_every_trunk_down_or_out_of_service_the_pbx_gets_503_unavailable) {
    for (int i = 0; i < 3; ++i) {
        newest_ping();
        clock.advance(10s);
    }
    EXPECT_EQ(up("carrier"), 0);
    pbx_call c1 = pbx.new_call();
    auto first = invite_to(backup, c1);
    backup.respond(first, 503, "Service Unavailable", {{"Retry-After", "60"}});
    backup.expect("ACK");
    pbx.ack_failure(c1, pbx.expect("SIP/2.0 503"));
    pbx_call c2 = pbx.new_call();
    pbx.invite(c2);
    pbx.authenticate(c2, pbx.expect("SIP/2.0 407"));
    pbx.ack_failure(c2, pbx.expect("SIP/2.0 503"));
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", ""}, {"result", "unavailable"}}), 1);
    newest_ping();
    carrier.take();
    backup.expect_nothing();
}

/// Number rewriting per route: strip, then prepend.
class rewriting_route : public ::testing::Test, public b2bua_harness {
protected:
    rewriting_route()
        : b2bua_harness({numbered_trunk(1, "carrier", "")},
                        "  - { prefix: \"0\", trunks: [ carrier ], strip: 1, prepend: \"+49\" }\n"
                        "  - { prefix: \"9\", trunk: carrier, strip: 1 }\n") {}
    void TearDown() override { expect_no_strays(); }
    pbx_actor& pbx = add_pbx("pbx");
    trunk_actor& carrier = trunk_named("carrier");
};

TEST_F(rewriting_route, the_dialled_number_is_rewritten_for_leg_b) {
    pbx_call c1 = pbx.new_call("03012345");
    auto invite = authenticated_invite(pbx, c1, carrier);
    EXPECT_EQ(invite.request_uri().user, "+493012345");
    EXPECT_EQ(invite.to().uri.user, "+493012345");
    pbx_call c2 = pbx.new_call("9");  // nothing left after strip: no number to dial
    pbx.invite(c2);
    pbx.authenticate(c2, pbx.expect("SIP/2.0 407"));
    pbx.ack_failure(c2, pbx.expect("SIP/2.0 404"));
    carrier.respond(invite, 486, "Busy Here");
    carrier.expect("ACK");
    pbx.ack_failure(c1, pbx.expect("SIP/2.0 486"));
}

}  // namespace
}  // namespace b2b::b2bua::test
