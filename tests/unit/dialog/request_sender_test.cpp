// Tests for request_sender: the 401/407 answer exists once, for every request we originate.
#include "dialog/request_sender.hpp"

#include "dialog/dialog.hpp"
#include "sip/message/writer.hpp"
#include "tests/fakes/loopback_transport.hpp"
#include "tests/fakes/manual_timer_service.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace b2b::dialog {
namespace {

using namespace std::chrono_literals;

const sip::endpoint our_end{boost::asio::ip::make_address("127.0.0.1"), 5060};
const sip::endpoint trunk_end{boost::asio::ip::make_address("127.0.0.2"), 5060};

class silent_user final : public sip::transaction_user {
public:
    void on_request(sip::transaction_id, sip::message&&, const sip::flow&) override {}
    void on_ack(sip::message&&, const sip::flow&) override {}
    void on_server_failure(sip::transaction_id, sip::transaction_failure) override {}
};

class recording_observer final : public auth_observer {
public:
    void on_challenged(std::uint32_t peer) override { challenged.push_back(peer); }
    void on_authenticated(std::uint32_t peer) override { authenticated.push_back(peer); }
    void on_auth_failure(std::uint32_t peer, auth::failure reason, std::string_view, const sip::message& r) override {
        failures.emplace_back(peer, reason);
        failure_status = r.status();
    }
    std::vector<std::uint32_t> challenged;
    std::vector<std::uint32_t> authenticated;
    std::vector<std::pair<std::uint32_t, auth::failure>> failures;
    int failure_status = 0;
};

class request_sender_test : public testing::Test {
protected:
    request_sender_test() { net.set_user(&txm); }

    sip::flow trunk_flow() const { return {sip::transport_kind::udp, our_end, trunk_end, 0}; }

    /// A BYE in a dialog with the trunk; each build takes the next CSeq.
    request_plan bye_plan(std::string user = "trunkuser") {
        auto d = std::make_shared<dialog_state>();
        d->call_id = "b-leg-call";
        d->local = "<sip:200@127.0.0.1>;tag=ours";
        d->remote = "<sip:1000@127.0.0.2>;tag=theirs";
        d->remote_target = "sip:1000@127.0.0.2";
        d->local_cseq = 1;
        d->flow = trunk_flow();
        d->self = make_identity(trunk_flow(), "");
        request_plan p;
        p.build = [d](std::string_view branch, std::string_view name, std::string_view value) {
            std::vector<std::pair<std::string_view, std::string_view>> extra;
            if (!name.empty()) extra.emplace_back(name, value);
            return make_in_dialog(*d, "BYE", branch, 0, {}, {}, std::move(extra));
        };
        p.flow = trunk_flow();
        p.method = "BYE";
        p.request_uri = d->remote_target;
        p.credentials = {std::move(user), "secret"};
        p.peer = 3;
        return p;
    }

    /// An INVITE to the trunk, built from `d` (filled in here: no To tag yet) with each send.
    request_plan invite_plan(const std::shared_ptr<dialog_state>& d) {
        d->call_id = "b-leg-call";
        d->local = "<sip:200@127.0.0.1>;tag=ours";
        d->remote = "<sip:1000@127.0.0.2>";
        d->remote_target = "sip:1000@127.0.0.2";
        d->flow = trunk_flow();
        d->self = make_identity(trunk_flow(), "");
        request_plan p = bye_plan();
        p.method = "INVITE";
        p.build = [d](std::string_view branch, std::string_view name, std::string_view value) {
            std::vector<std::pair<std::string_view, std::string_view>> extra;
            if (!name.empty()) extra.emplace_back(name, value);
            return make_in_dialog(*d, "INVITE", branch, 0, {}, {}, std::move(extra));
        };
        return p;
    }

    request_handler recorder() {
        return [this](request_event& ev) {
            statuses.push_back(ev.response ? ev.response->status() : -1);
            auth_failures.push_back(ev.auth_failure);
        };
    }

    sip::message last_sent() const { return sip::parse_message(net.sent().back().bytes).value(); }

    /// The trunk answers the last request we sent.
    void trunk_answers(int status, std::string_view extra_name = {}, std::string_view extra_value = {}) {
        const sip::message req = last_sent();
        auto w = sip::response_writer(req, status, sip::default_reason(status), "theirs");
        if (!extra_name.empty()) w.header(extra_name, extra_value);
        net.inject(std::move(w).finish(), trunk_flow());
    }

    void trunk_challenges(int status = 407, std::string_view nonce = "n1", bool stale = false) {
        std::string value = "Digest realm=\"trunk.example\", nonce=\"" + std::string(nonce) +
                            "\", qop=\"auth\", algorithm=MD5";
        if (stale) value += ", stale=true";
        trunk_answers(status, status == 407 ? "Proxy-Authenticate" : "WWW-Authenticate", value);
    }

    test::manual_timer_service clock;
    test::loopback_transport net{our_end};
    silent_user tu;
    sip::transaction_manager txm{net, clock, tu};
    recording_observer observer;
    request_sender sender{txm, &observer};
    std::vector<int> statuses;
    std::vector<std::optional<auth::failure>> auth_failures;
};

TEST_F(request_sender_test, a_challenge_is_answered_once_and_never_reaches_the_requester) {
    auto h = sender.send(bye_plan(), recorder());
    ASSERT_TRUE(h);
    ASSERT_EQ(net.sent().size(), 1U);
    EXPECT_EQ(last_sent().cseq().seq, 2U);
    EXPECT_EQ(last_sent().find(sip::header_id::proxy_authorization), nullptr);
    const auto first_txn = request_sender::current_transaction(*h);

    trunk_challenges(407);
    // §22.2: a new transaction (new branch), CSeq + 1, with our answer.
    const sip::message resent = last_sent();
    EXPECT_EQ(resent.cseq().seq, 3U);
    ASSERT_NE(resent.find(sip::header_id::proxy_authorization), nullptr);
    EXPECT_NE(resent.find(sip::header_id::proxy_authorization)->value.find("username=\"trunkuser\""),
              std::string_view::npos);
    EXPECT_NE(request_sender::current_transaction(*h), first_txn);
    EXPECT_EQ(request_sender::credentials_sent(*h).first, "Proxy-Authorization");
    EXPECT_TRUE(statuses.empty());
    EXPECT_EQ(observer.challenged, (std::vector<std::uint32_t>{3}));

    trunk_answers(200);
    EXPECT_EQ(statuses, (std::vector<int>{200}));
    EXPECT_FALSE(auth_failures.back());
    EXPECT_EQ(request_sender::current_transaction(*h), 0U);
    EXPECT_TRUE(observer.failures.empty());
    EXPECT_EQ(observer.authenticated, (std::vector<std::uint32_t>{3}));
}

// An INVITE's state lives as long as its call, through the handle the call keeps: what only
// responses could need goes with its last transaction (Timer M after the 2xx, RFC 6026 §7.2),
// and an ACK made later still carries the credentials the INVITE carried.
TEST_F(request_sender_test, a_spent_invite_keeps_only_what_a_late_ack_needs) {
    auto d = std::make_shared<dialog_state>();
    request_plan plan = invite_plan(d);
    auto in_handler = std::make_shared<int>(0);
    auto h = sender.send(std::move(plan), [this, in_handler](request_event& ev) {
        statuses.push_back(ev.response ? ev.response->status() : -1);
    });
    ASSERT_TRUE(h);
    trunk_challenges(407);
    trunk_answers(200);
    ASSERT_EQ(statuses, (std::vector<int>{200}));
    const std::string two_hundred = [&] {
        auto w = sip::response_writer(last_sent(), 200, "OK", "theirs");
        w.header(sip::header_id::contact, "<sip:1000@127.0.0.2>");
        return std::move(w).finish();
    }();
    // The builder goes at the 2xx: the INVITE is never built again.
    EXPECT_EQ(d.use_count(), 1);

    dialog_state confirmed = *d;
    confirmed.remote = "<sip:1000@127.0.0.2>;tag=theirs";
    ASSERT_FALSE(sender.acknowledge(*h, confirmed, 3));
    ASSERT_EQ(last_sent().method(), sip::method::ack);
    const std::size_t sent = net.sent().size();
    net.inject(two_hundred, trunk_flow());  // a retransmitted 2xx gets the same ACK again
    ASSERT_EQ(net.sent().size(), sent + 1);
    EXPECT_EQ(net.sent().back().bytes, net.sent()[sent - 1].bytes);
    EXPECT_GT(in_handler.use_count(), 1);

    clock.advance(32s);  // Timers D and M: no transaction of the INVITE is left
    EXPECT_EQ(txm.size(), 0U);
    EXPECT_EQ(in_handler.use_count(), 1);  // the handler went with the rest
    ASSERT_FALSE(sender.acknowledge(*h, confirmed, 3));
    const sip::message late = last_sent();
    EXPECT_EQ(late.method(), sip::method::ack);
    EXPECT_NE(late.find(sip::header_id::proxy_authorization), nullptr);
    EXPECT_EQ(request_sender::credentials_sent(*h).first, "Proxy-Authorization");
}

// The plan and the authenticator go at the first 2xx (nothing is built or answered after it);
// a 2xx of another fork still reaches the requester, and the credentials count as accepted once.
TEST_F(request_sender_test, another_forks_2xx_goes_up_after_the_plan_is_gone_and_counts_no_second_success) {
    auto d = std::make_shared<dialog_state>();
    request_plan plan = invite_plan(d);
    auto in_plan = std::make_shared<int>(0);
    plan.retry = [in_plan](const sip::message&) { return false; };
    auto h = sender.send(std::move(plan), recorder());
    ASSERT_TRUE(h);
    trunk_challenges(407);
    const sip::message invite = last_sent();
    trunk_answers(200);
    ASSERT_EQ(statuses, (std::vector<int>{200}));
    EXPECT_EQ(in_plan.use_count(), 1);  // the plan went at the 2xx, the state did not
    EXPECT_EQ(observer.authenticated, (std::vector<std::uint32_t>{3}));

    auto fork = sip::response_writer(invite, 200, "OK", "other-fork");
    net.inject(std::move(fork).finish(), trunk_flow());
    EXPECT_EQ(statuses, (std::vector<int>{200, 200}));
    EXPECT_EQ(observer.authenticated, (std::vector<std::uint32_t>{3}));
    EXPECT_EQ(request_sender::credentials_sent(*h).first, "Proxy-Authorization");
}

TEST_F(request_sender_test, a_second_challenge_is_a_rejection_with_the_response) {
    ASSERT_TRUE(sender.send(bye_plan(), recorder()));
    trunk_challenges(401, "n1");
    trunk_challenges(401, "n2");
    EXPECT_EQ(net.sent().size(), 2U);  // one answer per request, not a loop
    EXPECT_EQ(statuses, (std::vector<int>{401}));
    EXPECT_EQ(auth_failures.back(), auth::failure::rejected);
    ASSERT_EQ(observer.failures.size(), 1U);
    EXPECT_EQ(observer.failures[0], std::make_pair(std::uint32_t{3}, auth::failure::rejected));
}

TEST_F(request_sender_test, stale_challenges_are_answered_twice_more_then_it_gives_up) {
    ASSERT_TRUE(sender.send(bye_plan(), recorder()));
    trunk_challenges(407, "n1");
    trunk_challenges(407, "n2", true);
    trunk_challenges(407, "n3", true);
    EXPECT_TRUE(statuses.empty());
    EXPECT_EQ(net.sent().size(), 4U);
    trunk_challenges(407, "n4", true);
    EXPECT_EQ(statuses, (std::vector<int>{407}));
    EXPECT_EQ(auth_failures.back(), auth::failure::challenge_loop);
}

TEST_F(request_sender_test, forbidden_after_our_credentials_is_its_own_reason_and_goes_up) {
    ASSERT_TRUE(sender.send(bye_plan(), recorder()));
    trunk_challenges(407);
    trunk_answers(403, "Warning", "399 trunk.example \"Caller ID not allowed\"");
    EXPECT_EQ(statuses, (std::vector<int>{403}));
    EXPECT_EQ(auth_failures.back(), auth::failure::forbidden);
    EXPECT_TRUE(observer.authenticated.empty());  // a refusal is not a success
    EXPECT_EQ(observer.failure_status, 403);
}

TEST_F(request_sender_test, forbidden_without_a_challenge_is_a_plain_answer) {
    ASSERT_TRUE(sender.send(bye_plan(), recorder()));
    trunk_answers(403);
    EXPECT_EQ(statuses, (std::vector<int>{403}));
    EXPECT_FALSE(auth_failures.back());
    EXPECT_TRUE(observer.authenticated.empty());  // no credentials were sent
    EXPECT_TRUE(observer.failures.empty());
}

TEST_F(request_sender_test, no_credentials_fails_at_the_first_challenge) {
    ASSERT_TRUE(sender.send(bye_plan(""), recorder()));
    trunk_challenges(407);
    EXPECT_EQ(net.sent().size(), 1U);
    EXPECT_EQ(auth_failures.back(), auth::failure::no_credentials);
}

TEST_F(request_sender_test, timeout_reaches_the_requester_as_a_failure) {
    ASSERT_TRUE(sender.send(bye_plan(), recorder()));
    EXPECT_TRUE(statuses.empty());  // never from inside send
    clock.advance(33s);            // Timer F = 64*T1
    EXPECT_EQ(statuses, (std::vector<int>{-1}));
}

TEST_F(request_sender_test, an_abandoned_request_is_not_answered_nor_reported) {
    auto h = sender.send(bye_plan(), recorder());
    ASSERT_TRUE(h);
    request_sender::abandon(*h);
    trunk_challenges(407);
    EXPECT_EQ(net.sent().size(), 1U);  // no credentials sent for nobody
    EXPECT_TRUE(statuses.empty());
    clock.advance(64s);
    EXPECT_EQ(txm.size(), 0U);
}

// RFC 7616 §3.4: with reuse_nonce, the next request to the same peer carries credentials for
// the last nonce at once, with the next nc; a challenge to it is a first challenge.
TEST_F(request_sender_test, a_remembered_nonce_is_reused_with_the_next_nc) {
    auto reusing = [this] {
        auto p = bye_plan();
        p.reuse_nonce = true;
        return p;
    };
    ASSERT_TRUE(sender.send(reusing(), recorder()));
    trunk_challenges(407, "n1");
    trunk_answers(200);
    ASSERT_EQ(statuses, (std::vector<int>{200}));

    ASSERT_TRUE(sender.send(reusing(), recorder()));
    const sip::message second = last_sent();
    const auto* creds = second.find(sip::header_id::proxy_authorization);
    ASSERT_NE(creds, nullptr);  // no challenge round trip
    EXPECT_NE(creds->value.find("nonce=\"n1\""), std::string_view::npos);
    EXPECT_NE(creds->value.find("nc=00000002"), std::string_view::npos);
    trunk_answers(200);
    EXPECT_EQ(statuses, (std::vector<int>{200, 200}));
    EXPECT_EQ(observer.challenged.size(), 1u);
    EXPECT_EQ(observer.authenticated.size(), 2u);  // the reused nonce was accepted

    // The provider no longer takes that nonce: its fresh challenge is answered as a first one.
    ASSERT_TRUE(sender.send(reusing(), recorder()));
    EXPECT_NE(last_sent().find(sip::header_id::proxy_authorization)->value.find("nc=00000003"), std::string_view::npos);
    trunk_challenges(407, "n2");
    const sip::message answered = last_sent();
    const auto* answer = answered.find(sip::header_id::proxy_authorization);
    ASSERT_NE(answer, nullptr);
    EXPECT_NE(answer->value.find("nonce=\"n2\""), std::string_view::npos);
    EXPECT_NE(answer->value.find("nc=00000001"), std::string_view::npos);
    trunk_answers(200);
    EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200}));
    EXPECT_TRUE(observer.failures.empty());  // not a rejection

    ASSERT_TRUE(sender.send(reusing(), recorder()));  // the new nonce is the remembered one now
    EXPECT_NE(last_sent().find(sip::header_id::proxy_authorization)->value.find("nonce=\"n2\""), std::string_view::npos);
}

// Two workers may hold one nonce (a provider gives the same one to every challenge within a
// second): each reuses it on its own lane of nc values, so none is sent twice.
TEST_F(request_sender_test, a_reused_nonce_takes_the_nc_values_of_its_lane) {
    auto reusing = [this] {
        auto p = bye_plan();
        p.reuse_nonce = true;
        return p;
    };
    sender.set_nc_lane(1, 2);  // the second of two workers: 3, 5, 7...
    ASSERT_TRUE(sender.send(reusing(), recorder()));
    trunk_challenges(407, "n1");
    EXPECT_NE(last_sent().find(sip::header_id::proxy_authorization)->value.find("nc=00000001"), std::string_view::npos);
    trunk_answers(200);
    for (const char* nc : {"nc=00000003", "nc=00000005", "nc=00000007"}) {
        ASSERT_TRUE(sender.send(reusing(), recorder()));
        EXPECT_NE(last_sent().find(sip::header_id::proxy_authorization)->value.find(nc), std::string_view::npos) << nc;
        trunk_answers(200);
    }
    sender.set_nc_lane(0, 2);  // the first of two: the even ones
    ASSERT_TRUE(sender.send(reusing(), recorder()));
    EXPECT_NE(last_sent().find(sip::header_id::proxy_authorization)->value.find("nc=00000008"), std::string_view::npos);
}

TEST_F(request_sender_test, without_reuse_every_request_waits_for_its_challenge) {
    ASSERT_TRUE(sender.send(bye_plan(), recorder()));
    trunk_challenges(407, "n1");
    trunk_answers(200);
    ASSERT_TRUE(sender.send(bye_plan(), recorder()));
    EXPECT_EQ(last_sent().find(sip::header_id::proxy_authorization), nullptr);
}

// A send failure at every step of an authenticated BYE (first send, the re-send with
// credentials, the retransmissions): the requester hears exactly one outcome and nothing
// is left behind (STYLE.md §6, Beast's failMatrix).
TEST_F(request_sender_test, send_failure_sweep) {
    for (std::size_t n = 0; n < 6; ++n) {
        test::manual_timer_service sweep_clock;
        test::loopback_transport sweep_net{our_end};
        silent_user sweep_tu;
        sip::transaction_manager sweep_txm{sweep_net, sweep_clock, sweep_tu};
        sweep_net.set_user(&sweep_txm);
        request_sender s{sweep_txm};
        sweep_net.fail_send_number(n);
        int outcomes = 0;
        auto h = s.send(bye_plan(), [&](request_event& ev) {
            if (ev.failure || (ev.response && ev.response->status() >= 200)) ++outcomes;
        });
        if (!h) continue;
        sweep_clock.advance(1s);
        if (!sweep_net.sent().empty() && outcomes == 0) {
            auto req = sip::parse_message(sweep_net.sent().back().bytes).value();
            if (req.find(sip::header_id::proxy_authorization) == nullptr) {
                sweep_net.inject(sip::response_writer(req, 407, "Proxy Authentication Required", "t")
                                     .header("Proxy-Authenticate", "Digest realm=\"r\", nonce=\"n\", qop=\"auth\"")
                                     .finish(),
                                 trunk_flow());
                sweep_clock.advance(1s);
            }
        }
        if (outcomes == 0 && !sweep_net.sent().empty()) {
            auto req = sip::parse_message(sweep_net.sent().back().bytes).value();
            sweep_net.inject(sip::response_writer(req, 200, "OK", "t").finish(), trunk_flow());
        }
        sweep_clock.advance(64s);
        EXPECT_EQ(outcomes, 1) << "send " << n << " failing";
        EXPECT_EQ(sweep_txm.size(), 0U) << "send " << n << " failing";
    }
}

}  // namespace
}  // namespace b2b::dialog

namespace b2b::dialog {
namespace {

// RFC 4028 §7.4 through the retry hook: the requester never sees the refusal it asked to retry,
// the re-send is a new transaction with the next CSeq and the next nc on the same nonce.
TEST_F(request_sender_test, a_response_the_plan_retries_is_sent_again_with_fresh_credentials) {
    auto plan = bye_plan();
    int asked = 0;
    plan.retry = [&asked](const sip::message& rsp) { return rsp.status() == 422 && ++asked == 1; };
    auto h = sender.send(std::move(plan), recorder());
    ASSERT_TRUE(h);
    trunk_challenges(407);
    const sip::message with_credentials = last_sent();
    trunk_answers(422, "Min-SE", "1800");
    const sip::message again = last_sent();
    EXPECT_EQ(again.cseq().seq, with_credentials.cseq().seq + 1);
    EXPECT_NE(again.vias().front().branch, with_credentials.vias().front().branch);
    const auto* credentials = again.find(sip::header_id::proxy_authorization);
    ASSERT_NE(credentials, nullptr);
    EXPECT_NE(credentials->value.find("nonce=\"n1\""), std::string_view::npos);
    EXPECT_NE(credentials->value.find("nc=00000002"), std::string_view::npos);
    EXPECT_TRUE(statuses.empty());
    // The plan declines the second one: it goes up as it is.
    trunk_answers(422, "Min-SE", "3600");
    EXPECT_EQ(asked, 2);
    ASSERT_EQ(statuses.size(), 1U);
    EXPECT_EQ(statuses.front(), 422);
    EXPECT_FALSE(auth_failures.front());
}

}  // namespace
}  // namespace b2b::dialog
