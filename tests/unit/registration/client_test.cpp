// Tests for registration_client: one trunk's registration, against a scripted registrar, with
// a real transaction manager and request sender over the loopback transport and a manual clock.
#include "registration/client.hpp"

#include "registration/contact_token.hpp"
#include "sip/message/writer.hpp"
#include "tests/fakes/loopback_transport.hpp"
#include "tests/fakes/manual_timer_service.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace b2b::registration {
namespace {

using namespace std::chrono_literals;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

const sip::endpoint our_end{boost::asio::ip::make_address("127.0.0.1"), 5060};
const sip::endpoint provider_end{boost::asio::ip::make_address("127.0.0.2"), 5090};

class silent_user final : public sip::transaction_user {
public:
    void on_request(sip::transaction_id, sip::message&&, const sip::flow&) override {}
    void on_ack(sip::message&&, const sip::flow&) override {}
    void on_server_failure(sip::transaction_id, sip::transaction_failure) override {}
};

class recording_observer final : public registration_observer {
public:
    void on_attempt(const registration_target&, attempt_outcome outcome) override { outcomes.push_back(outcome); }
    void on_status(const registration_target&, const registration_status& now, bool state_changed) override {
        statuses.push_back(now);
        if (state_changed) states.push_back(now.state);
    }
    std::vector<attempt_outcome> outcomes;
    std::vector<registration_status> statuses;
    std::vector<registration_state> states;  // each change, in order
};

class registration_client_test : public testing::Test {
protected:
    registration_client_test() {
        net.set_user(&txm);
        target.name = "carrier";
        target.peer = 4;
        target.address = provider_end;
        target.domain = "127.0.0.2:5090";
        target.aor_user = "trunkuser";
        target.contact_user = contact_user("carrier", "trunkuser", "trunkpass");
        target.credentials = {"trunkuser", "trunkpass"};
        target.expires = 600s;
    }

    registration_client& client() {
        if (!client_) {
            client_ = std::make_unique<registration_client>(clock, net, sender, target, &observer,
                                                            [this] { return unit; });
        }
        return *client_;
    }
    const registration_status& status() { return client().status(); }

    // ---- the registrar's side ----

    /// Every REGISTER sent so far, once each (UDP retransmissions left out).
    std::vector<sip::message> registers() const {
        std::vector<sip::message> out;
        std::set<std::string> branches;
        for (const auto& s : net.sent()) {
            auto m = sip::parse_message(s.bytes).value();
            if (!branches.insert(std::string(m.vias().front().branch)).second) continue;
            out.push_back(std::move(m));
        }
        return out;
    }
    std::size_t register_count() const { return registers().size(); }
    sip::message last_register() const { return sip::parse_message(net.sent().back().bytes).value(); }

    static std::string header(const sip::message& m, std::string_view name) {
        const auto* h = m.find(name);
        return h ? std::string(h->value) : std::string();
    }

    /// The registrar answers the last REGISTER sent.
    void answer(int status, const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        const sip::message req = last_register();
        auto w = sip::response_writer(req, status, sip::default_reason(status), "reg");
        for (const auto& [name, value] : headers) w.header(name, value);
        net.inject(std::move(w).finish(), net.sent().back().flow,
                   net.sent().back().flow.reliable() ? sip::framing::stream : sip::framing::datagram);
    }

    void challenge(std::string_view nonce = "n1", bool stale = false) {
        std::string value = "Digest realm=\"provider.example\", nonce=\"" + std::string(nonce) +
                            "\", qop=\"auth\", algorithm=MD5";
        if (stale) value += ", stale=true";
        answer(401, {{"WWW-Authenticate", value}});
    }

    /// 200 listing our binding as we sent it, with `;expires=` when `contact_expires` is set.
    void accept(std::optional<int> contact_expires, std::optional<int> expires_header = std::nullopt) {
        const sip::message req = last_register();
        std::string contact = std::string(req.contacts().front().uri.text);
        contact = "<" + contact + ">";
        if (contact_expires) contact += ";expires=" + std::to_string(*contact_expires);
        std::vector<std::pair<std::string, std::string>> h{{"Contact", contact}};
        if (expires_header) h.emplace_back("Expires", std::to_string(*expires_header));
        answer(200, h);
    }

    /// A REGISTER without credentials is challenged; one with them gets 200 granting `granted`.
    void registrar_accepts(int granted) {
        if (last_register().find(sip::header_id::authorization) == nullptr) {
            challenge();
        }
        accept(granted);
    }

    milliseconds until(sip::timer_service::time_point t) const { return duration_cast<milliseconds>(t - clock.now()); }

    /// Starts and registers (401, then 200 granting `granted`).
    void register_for(int granted) {
        client().start();
        registrar_accepts(granted);
        ASSERT_EQ(status().state, registration_state::registered);
    }

    test::manual_timer_service clock;
    test::loopback_transport net{our_end};
    silent_user tu;
    sip::transaction_manager txm{net, clock, tu};
    dialog::request_sender sender{txm};
    recording_observer observer;
    registration_target target;
    double unit = 0.5;
    std::unique_ptr<registration_client> client_;
};

TEST_F(registration_client_test, the_first_register_names_the_domain_the_account_and_our_token_contact) {
    client().start();
    ASSERT_EQ(register_count(), 1U);
    const sip::message r = last_register();
    EXPECT_EQ(r.method_text(), "REGISTER");
    EXPECT_EQ(r.request_uri().text, "sip:127.0.0.2:5090");  // §10.2: no user part
    EXPECT_EQ(r.to().text, "<sip:trunkuser@127.0.0.2:5090>");
    EXPECT_EQ(r.from().uri.text, "sip:trunkuser@127.0.0.2:5090");
    EXPECT_FALSE(r.from().tag.empty());
    EXPECT_TRUE(r.to().tag.empty());
    ASSERT_EQ(r.contacts().size(), 1U);
    EXPECT_EQ(r.contacts().front().text, "<sip:" + target.contact_user + "@127.0.0.1:5060>");
    EXPECT_EQ(header(r, "Expires"), "600");
    EXPECT_EQ(r.cseq().seq, 1U);
    EXPECT_EQ(r.find(sip::header_id::authorization), nullptr);
    EXPECT_EQ(net.sent().back().flow.remote, provider_end);
    EXPECT_EQ(status().state, registration_state::registering);
    EXPECT_EQ(observer.states, (std::vector{registration_state::registering}));
    EXPECT_TRUE(observer.outcomes.empty());
}

TEST_F(registration_client_test, over_tcp_the_request_uri_and_contact_say_so) {
    target.transport = sip::transport_kind::tcp;
    client().start();
    const sip::message r = last_register();
    EXPECT_EQ(r.request_uri().text, "sip:127.0.0.2:5090;transport=tcp");
    EXPECT_EQ(r.contacts().front().text, "<sip:" + target.contact_user + "@127.0.0.1:5060;transport=tcp>");
    EXPECT_EQ(net.sent().back().flow.transport, sip::transport_kind::tcp);
}

TEST_F(registration_client_test, an_advertised_host_and_port_go_in_our_via_and_contact_and_the_200_finds_them) {
    target.advertised_host = "sbc.example.net:5062";
    client().start();
    const sip::message r = last_register();
    EXPECT_EQ(r.vias().front().host, "sbc.example.net");
    EXPECT_EQ(r.vias().front().port, 5062);
    EXPECT_EQ(r.contacts().front().text, "<sip:" + target.contact_user + "@sbc.example.net:5062>");
    EXPECT_EQ(net.sent().back().flow.remote, provider_end);  // sent to the registrar all the same
    registrar_accepts(120);
    EXPECT_EQ(status().state, registration_state::registered);
    EXPECT_EQ(status().granted, 120s);
}

TEST_F(registration_client_test, behind_a_balancer_the_contact_names_it_and_the_200_is_read_for_it) {
    target.contact_host_port = "127.0.0.10:5060";
    client().start();
    challenge();
    const sip::message r = last_register();
    EXPECT_EQ(r.vias().front().host, "127.0.0.1");  // the node itself: the answer comes here
    EXPECT_EQ(r.contacts().front().text, "<sip:" + target.contact_user + "@127.0.0.10:5060>");
    // The registrar lists the node's own address too (an old binding): ours is the balancer's.
    answer(200, {{"Contact", "<sip:" + target.contact_user + "@127.0.0.1:5060>;expires=30"},
                 {"Contact", "<sip:" + target.contact_user + "@127.0.0.10:5060>;expires=120"}});
    EXPECT_EQ(status().state, registration_state::registered);
    EXPECT_EQ(status().granted, 120s);
}

TEST_F(registration_client_test, over_tls_the_request_uri_and_contact_say_so) {
    target.transport = sip::transport_kind::tls;
    client().start();
    const sip::message r = last_register();
    EXPECT_EQ(r.request_uri().text, "sip:127.0.0.2:5090;transport=tls");
    EXPECT_EQ(r.contacts().front().text, "<sip:" + target.contact_user + "@127.0.0.1:5060;transport=tls>");
    EXPECT_EQ(net.sent().back().flow.transport, sip::transport_kind::tls);
}

TEST_F(registration_client_test, a_challenge_is_answered_and_the_200_grants_our_contacts_expires) {
    client().start();
    challenge();
    ASSERT_EQ(register_count(), 2U);
    const auto all = registers();
    const sip::message& first = all[0];
    const sip::message& second = all[1];
    ASSERT_NE(second.find(sip::header_id::authorization), nullptr);
    EXPECT_EQ(second.call_id(), first.call_id());
    EXPECT_EQ(second.from().tag, first.from().tag);
    EXPECT_EQ(second.cseq().seq, 2U);  // §22.2: a new transaction, CSeq + 1
    EXPECT_EQ(status().state, registration_state::registering);

    accept(300, 900);  // the Contact's expires wins over the Expires header
    EXPECT_EQ(status().state, registration_state::registered);
    EXPECT_EQ(status().granted, 300s);
    EXPECT_EQ(status().asked, 600s);
    EXPECT_EQ(status().last_status, 200);
    EXPECT_EQ(status().last_reason, "OK");
    EXPECT_FALSE(status().failure);
    EXPECT_EQ(until(status().expires_at), 300s);
    EXPECT_EQ(observer.outcomes, (std::vector{attempt_outcome::registered}));
    EXPECT_EQ(observer.states, (std::vector{registration_state::registering, registration_state::registered}));
}

TEST_F(registration_client_test, without_a_contact_param_the_expires_header_is_granted) {
    client().start();
    challenge();
    accept(std::nullopt, 120);
    EXPECT_EQ(status().state, registration_state::registered);
    EXPECT_EQ(status().granted, 120s);
}

TEST_F(registration_client_test, the_refresh_keeps_call_id_and_from_tag_and_takes_the_next_cseq) {
    register_for(300);
    const auto wait = until(status().next_attempt);
    EXPECT_GE(wait, 150s);  // 50 % of 300 s
    EXPECT_LT(wait, 240s);  // 80 %
    EXPECT_EQ(wait, 195s);  // unit 0.5: 65 %

    clock.advance(wait - 1ms);
    EXPECT_EQ(register_count(), 2U);
    clock.advance(1ms);
    ASSERT_EQ(register_count(), 3U);
    const auto all = registers();
    EXPECT_EQ(all[2].call_id(), all[0].call_id());
    EXPECT_EQ(all[2].from().tag, all[0].from().tag);
    EXPECT_EQ(all[2].cseq().seq, 3U);
    EXPECT_EQ(status().state, registration_state::registered);  // while the refresh is under way

    challenge("n2");
    EXPECT_EQ(last_register().cseq().seq, 4U);
    accept(300);
    EXPECT_EQ(status().state, registration_state::registered);
    EXPECT_EQ(until(status().expires_at), 300s);
    EXPECT_EQ(observer.outcomes, (std::vector{attempt_outcome::registered, attempt_outcome::registered}));
    // A refresh that succeeds changes no state: no second "registered" change.
    EXPECT_EQ(observer.states, (std::vector{registration_state::registering, registration_state::registered}));
}

TEST_F(registration_client_test, the_refresh_point_is_drawn_between_50_and_80_percent) {
    unit = 0.0;
    register_for(600);
    EXPECT_EQ(until(status().next_attempt), 300s);
    client_.reset();
    unit = 0.999999;
    register_for(600);
    EXPECT_LT(until(status().next_attempt), 480s);
    EXPECT_GT(until(status().next_attempt), 479s);
}

TEST_F(registration_client_test, a_short_grant_of_20_s_is_refreshed_between_10_and_16_s) {
    for (const double u : {0.0, 0.5, 0.999999}) {
        unit = u;
        client_.reset();
        net.clear_sent();
        register_for(20);
        clock.advance(10s - 1ms);
        EXPECT_EQ(register_count(), 2U) << u;
        clock.advance(6s);
        EXPECT_EQ(register_count(), 3U) << u;  // sent by 16 s
        registrar_accepts(20);
        EXPECT_EQ(status().state, registration_state::registered);
    }
}

TEST_F(registration_client_test, a_stale_second_challenge_is_answered_again_and_is_no_failure) {
    client().start();
    challenge("n1");
    challenge("n2", true);
    ASSERT_EQ(register_count(), 3U);
    EXPECT_NE(last_register().find(sip::header_id::authorization), nullptr);
    EXPECT_NE(header(last_register(), "Authorization").find("nonce=\"n2\""), std::string::npos);
    accept(600);
    EXPECT_EQ(status().state, registration_state::registered);
    EXPECT_EQ(observer.outcomes, (std::vector{attempt_outcome::registered}));
}

TEST_F(registration_client_test, stale_challenges_beyond_two_are_a_challenge_loop_and_auth_failed) {
    client().start();
    challenge("n1");
    challenge("n2", true);
    challenge("n3", true);
    EXPECT_EQ(register_count(), 4U);
    challenge("n4", true);
    EXPECT_EQ(register_count(), 4U);
    EXPECT_EQ(status().failure, attempt_outcome::auth_failed);
    EXPECT_EQ(until(status().next_attempt), 600s);
}

TEST_F(registration_client_test, without_credentials_a_challenge_is_auth_failed) {
    target.credentials = {};
    client().start();
    challenge();
    EXPECT_EQ(register_count(), 1U);
    EXPECT_EQ(status().failure, attempt_outcome::auth_failed);
}

TEST_F(registration_client_test, with_reuse_nonce_a_refresh_carries_credentials_at_once) {
    target.reuse_nonce = true;
    register_for(600);
    clock.advance(until(status().next_attempt));
    ASSERT_EQ(register_count(), 3U);
    EXPECT_NE(header(last_register(), "Authorization").find("nonce=\"n1\""), std::string::npos);
    accept(600);
    EXPECT_EQ(status().state, registration_state::registered);
    EXPECT_EQ(register_count(), 3U);
}

TEST_F(registration_client_test, a_second_start_sends_nothing_more) {
    client().start();
    client().start();
    EXPECT_EQ(register_count(), 1U);
    registrar_accepts(600);
    client().start();
    EXPECT_EQ(register_count(), 2U);
}

TEST_F(registration_client_test, a_second_challenge_without_stale_is_auth_failed_and_waits_10_then_20_min) {
    client().start();
    challenge("n1");
    challenge("n2");
    EXPECT_EQ(status().state, registration_state::failing);
    EXPECT_EQ(status().failure, attempt_outcome::auth_failed);
    EXPECT_EQ(status().last_status, 401);
    EXPECT_EQ(observer.outcomes, (std::vector{attempt_outcome::auth_failed}));
    EXPECT_EQ(until(status().next_attempt), 600s);  // unit 0.5: no jitter
    EXPECT_EQ(register_count(), 2U);

    clock.advance(600s - 1ms);
    EXPECT_EQ(register_count(), 2U);
    clock.advance(1ms);
    EXPECT_EQ(register_count(), 3U);
    EXPECT_EQ(status().state, registration_state::failing);  // stays failing while it retries
    challenge("n3");
    challenge("n4");
    EXPECT_EQ(until(status().next_attempt), 1200s);
    EXPECT_EQ(observer.states, (std::vector{registration_state::registering, registration_state::failing}));
}

TEST_F(registration_client_test, the_credential_back_off_has_ten_percent_jitter) {
    unit = 0.0;
    client().start();
    challenge("n1");
    challenge("n2");
    EXPECT_EQ(until(status().next_attempt), 540s);
    client_.reset();
    unit = 0.999999;
    client().start();
    challenge("n1");
    challenge("n2");
    EXPECT_LT(until(status().next_attempt), 660s);
    EXPECT_GT(until(status().next_attempt), 659s);
}

TEST_F(registration_client_test, forbidden_is_a_credential_failure_with_the_same_back_off) {
    client().start();
    challenge();
    answer(403, {{"Warning", "399 provider.example \"Account locked\""}});
    EXPECT_EQ(status().state, registration_state::failing);
    EXPECT_EQ(status().failure, attempt_outcome::forbidden);
    EXPECT_EQ(status().last_status, 403);
    EXPECT_EQ(status().last_reason, "Forbidden");
    EXPECT_EQ(status().last_warning, "399 provider.example \"Account locked\"");
    EXPECT_EQ(until(status().next_attempt), 600s);
    clock.advance(600s);
    answer(403);  // refused before any challenge: forbidden too
    EXPECT_EQ(status().failure, attempt_outcome::forbidden);
    EXPECT_EQ(until(status().next_attempt), 1200s);
    EXPECT_EQ(observer.outcomes, (std::vector{attempt_outcome::forbidden, attempt_outcome::forbidden}));
}

TEST_F(registration_client_test, a_registrar_refusing_every_register_gets_at_most_two_a_minute) {
    // It challenges what has no credentials and refuses the credentials with 403.
    client().start();
    std::size_t answered = 0;
    for (int s = 0; s < 60; ++s) {
        while (answered < net.sent().size()) {  // answers each new REGISTER, also one sent meanwhile
            answered = net.sent().size();
            if (last_register().find(sip::header_id::authorization) == nullptr) {
                challenge();
            } else {
                answer(403);
            }
        }
        clock.advance(1s);
    }
    EXPECT_EQ(register_count(), 2U);  // the first, and its answer to the challenge: never more
    EXPECT_EQ(status().state, registration_state::failing);
}

TEST_F(registration_client_test, a_registrar_answering_403_at_once_gets_one_register_a_minute) {
    client().start();
    answer(403);
    clock.advance(60s);
    EXPECT_EQ(register_count(), 1U);
    EXPECT_EQ(status().failure, attempt_outcome::forbidden);
}

TEST_F(registration_client_test, interval_too_brief_is_asked_again_at_once_with_min_expires) {
    client().start();
    challenge();
    answer(423, {{"Min-Expires", "3600"}});
    ASSERT_EQ(register_count(), 3U);  // at once, no timer
    const sip::message r = last_register();
    EXPECT_EQ(header(r, "Expires"), "3600");
    EXPECT_EQ(r.cseq().seq, 3U);
    EXPECT_NE(r.find(sip::header_id::authorization), nullptr);  // fresh credentials for the new send
    EXPECT_EQ(status().asked, 3600s);
    EXPECT_EQ(observer.outcomes, (std::vector{attempt_outcome::interval_too_brief}));
    accept(3600);
    EXPECT_EQ(status().state, registration_state::registered);
    EXPECT_EQ(status().granted, 3600s);
    EXPECT_EQ(observer.outcomes, (std::vector{attempt_outcome::interval_too_brief, attempt_outcome::registered}));
    // Refreshes keep asking for what the registrar accepts.
    clock.advance(until(status().next_attempt));
    EXPECT_EQ(header(last_register(), "Expires"), "3600");
}

TEST_F(registration_client_test, a_423_without_a_usable_min_expires_is_an_error) {
    client().start();
    answer(423);
    EXPECT_EQ(register_count(), 1U);
    EXPECT_EQ(status().failure, attempt_outcome::error);
    EXPECT_EQ(until(status().next_attempt), 5s);
    clock.advance(5s);
    answer(423, {{"Min-Expires", "600"}});  // not above what we asked: it would say the same again
    EXPECT_EQ(register_count(), 2U);
    EXPECT_EQ(status().failure, attempt_outcome::error);
}

TEST_F(registration_client_test, an_unanswered_register_times_out_and_retries_from_5_s_doubling_to_5_min) {
    client().start();
    clock.advance(32s);  // Timer F = 64 * T1
    EXPECT_EQ(status().state, registration_state::failing);
    EXPECT_EQ(status().failure, attempt_outcome::timeout);
    EXPECT_EQ(status().last_status, 0);
    const std::chrono::seconds expected[] = {5s, 10s, 20s, 40s, 80s, 160s, 300s, 300s};
    for (const auto e : expected) {
        ASSERT_EQ(until(status().next_attempt), e);
        const auto before = register_count();
        clock.advance(e);
        EXPECT_EQ(register_count(), before + 1);
        EXPECT_EQ(status().state, registration_state::failing);
        clock.advance(32s);
        EXPECT_EQ(status().failure, attempt_outcome::timeout);
    }
    EXPECT_EQ(observer.outcomes.size(), 9U);
    EXPECT_EQ(observer.states, (std::vector{registration_state::registering, registration_state::failing}));
}

TEST_F(registration_client_test, a_408_is_a_timeout_and_a_5xx_an_error_both_transient) {
    client().start();
    answer(408);
    EXPECT_EQ(status().failure, attempt_outcome::timeout);
    EXPECT_EQ(until(status().next_attempt), 5s);
    clock.advance(5s);
    answer(500);
    EXPECT_EQ(status().failure, attempt_outcome::error);
    EXPECT_EQ(until(status().next_attempt), 10s);
}

TEST_F(registration_client_test, retry_after_is_a_floor_for_the_next_attempt) {
    client().start();
    answer(503, {{"Retry-After", "120"}});
    EXPECT_EQ(status().failure, attempt_outcome::error);
    EXPECT_GE(until(status().next_attempt), 120s);
    clock.advance(120s - 1ms);
    EXPECT_EQ(register_count(), 1U);
    clock.advance(1ms);
    EXPECT_EQ(register_count(), 2U);
}

TEST_F(registration_client_test, a_send_failure_is_a_transport_error) {
    // Over UDP a datagram that could not leave is a lost one (retransmitted); over TCP it fails.
    target.transport = sip::transport_kind::tcp;
    net.fail_sends();
    client().start();
    clock.advance(0ms);
    EXPECT_EQ(status().state, registration_state::failing);
    EXPECT_EQ(status().failure, attempt_outcome::transport_error);
    EXPECT_EQ(until(status().next_attempt), 5s);
    net.stop_failing();
    clock.advance(5s);
    registrar_accepts(600);
    EXPECT_EQ(status().state, registration_state::registered);
    EXPECT_FALSE(status().failure);
}

TEST_F(registration_client_test, a_closed_connection_is_a_transport_error) {
    target.transport = sip::transport_kind::tcp;
    client().start();
    net.close_flow(net.sent().back().flow);
    clock.advance(0ms);
    EXPECT_EQ(status().failure, attempt_outcome::transport_error);
    EXPECT_EQ(status().state, registration_state::failing);
}

TEST_F(registration_client_test, a_2xx_without_our_binding_or_granting_0_is_an_error) {
    client().start();
    challenge();
    answer(200, {{"Contact", "<sip:someoneelse@127.0.0.1:5060>;expires=600"}});
    EXPECT_EQ(status().state, registration_state::failing);
    EXPECT_EQ(status().failure, attempt_outcome::error);
    clock.advance(5s);
    challenge("n2");
    accept(0);
    EXPECT_EQ(status().failure, attempt_outcome::error);
    EXPECT_EQ(observer.outcomes, (std::vector{attempt_outcome::error, attempt_outcome::error}));
}

TEST_F(registration_client_test, a_failed_refresh_is_failing_at_once_while_the_binding_holds) {
    register_for(60);
    const auto held_until = status().expires_at;
    clock.advance(until(status().next_attempt));  // 39 s: the refresh
    answer(500);
    EXPECT_EQ(status().state, registration_state::failing);
    EXPECT_EQ(status().failure, attempt_outcome::error);
    EXPECT_EQ(status().expires_at, held_until);  // the provider still holds it until then
    EXPECT_EQ(until(status().next_attempt), 5s);
    clock.advance(5s);
    answer(503, {{"Retry-After", "60"}});  // the next try comes after the binding ends
    EXPECT_EQ(status().state, registration_state::failing);
    clock.advance(until(status().expires_at) - 1ms);
    EXPECT_EQ(status().expires_at, held_until);
    clock.advance(1ms);
    EXPECT_EQ(status().state, registration_state::failing);
    EXPECT_EQ(status().expires_at, sip::timer_service::time_point{});
    EXPECT_EQ(observer.states, (std::vector{registration_state::registering, registration_state::registered,
                                            registration_state::failing}));
}

TEST_F(registration_client_test, stop_after_a_failed_refresh_still_removes_the_binding_it_holds) {
    register_for(600);
    clock.advance(until(status().next_attempt));
    answer(500);
    ASSERT_EQ(status().state, registration_state::failing);
    const auto before = register_count();
    int done = 0;
    client().stop([&] { ++done; });
    ASSERT_EQ(register_count(), before + 1);
    EXPECT_EQ(header(last_register(), "Expires"), "0");
    EXPECT_EQ(done, 0);
}

TEST_F(registration_client_test, never_two_registers_under_way) {
    register_for(20);
    clock.advance(until(status().next_attempt));  // 13 s: the refresh goes out, nobody answers
    ASSERT_EQ(register_count(), 3U);
    // Past the binding's end and up to Timer F: the one refresh is retransmitted, never doubled.
    clock.advance(31s);
    EXPECT_EQ(register_count(), 3U);
    EXPECT_EQ(status().state, registration_state::failing);  // its expiry passed meanwhile
    clock.advance(1s);
    EXPECT_EQ(status().failure, attempt_outcome::timeout);
    EXPECT_EQ(register_count(), 3U);
    clock.advance(5s);
    EXPECT_EQ(register_count(), 4U);
}

TEST_F(registration_client_test, stop_when_registered_removes_our_binding_and_calls_done_on_the_200) {
    register_for(600);
    int done = 0;
    client().stop([&] { ++done; });
    ASSERT_EQ(register_count(), 3U);
    const sip::message r = last_register();
    EXPECT_EQ(header(r, "Expires"), "0");
    EXPECT_EQ(r.contacts().front().text, "<sip:" + target.contact_user + "@127.0.0.1:5060>;expires=0");
    EXPECT_EQ(r.call_id(), registers()[0].call_id());
    EXPECT_EQ(r.cseq().seq, 3U);
    EXPECT_EQ(done, 0);
    challenge("n2");  // answered: removing needs the credentials too
    EXPECT_EQ(done, 0);
    ASSERT_EQ(register_count(), 4U);
    EXPECT_EQ(header(last_register(), "Expires"), "0");
    EXPECT_NE(last_register().find(sip::header_id::authorization), nullptr);
    answer(200);
    EXPECT_EQ(done, 1);
    EXPECT_EQ(status().state, registration_state::unregistered);
    EXPECT_EQ(status().next_attempt, sip::timer_service::time_point{});
    clock.advance(3600s);  // no refresh or retry after a stop
    EXPECT_EQ(register_count(), 4U);
    EXPECT_EQ(clock.pending(), 0U);
}

TEST_F(registration_client_test, stop_when_the_removal_gets_no_answer_calls_done_after_timer_f) {
    register_for(600);
    int done = 0;
    client().stop([&] { ++done; });
    clock.advance(31s);
    EXPECT_EQ(done, 0);
    clock.advance(1s);
    EXPECT_EQ(done, 1);
    EXPECT_EQ(status().state, registration_state::unregistered);
}

TEST_F(registration_client_test, stop_abandons_a_refresh_under_way_and_removes_the_binding) {
    register_for(600);
    clock.advance(until(status().next_attempt));
    ASSERT_EQ(register_count(), 3U);
    int done = 0;
    client().stop([&] { ++done; });
    ASSERT_EQ(register_count(), 4U);
    EXPECT_EQ(header(last_register(), "Expires"), "0");
    EXPECT_EQ(last_register().cseq().seq, 4U);  // above the abandoned refresh's
    answer(200);
    EXPECT_EQ(done, 1);
    EXPECT_EQ(status().state, registration_state::unregistered);
}

TEST_F(registration_client_test, stop_during_the_first_register_removes_what_its_answer_may_make) {
    client().start();
    int done = 0;
    client().stop([&] { ++done; });
    ASSERT_EQ(register_count(), 2U);
    EXPECT_EQ(header(last_register(), "Expires"), "0");
    EXPECT_EQ(done, 0);
    answer(200);
    EXPECT_EQ(done, 1);
    EXPECT_EQ(status().state, registration_state::unregistered);
    EXPECT_TRUE(observer.outcomes.empty());  // the abandoned REGISTER has no outcome
}

TEST_F(registration_client_test, stop_when_nothing_is_registered_calls_done_at_once_without_sending) {
    int done = 0;
    client().stop([&] { ++done; });  // never started
    EXPECT_EQ(done, 1);
    EXPECT_TRUE(net.sent().empty());

    client().start();
    answer(503);
    ASSERT_EQ(status().state, registration_state::failing);
    client().stop([&] { ++done; });
    EXPECT_EQ(done, 2);
    EXPECT_EQ(register_count(), 1U);
    EXPECT_EQ(status().state, registration_state::unregistered);
    clock.advance(600s);  // the retry was cancelled
    EXPECT_EQ(register_count(), 1U);
}

TEST_F(registration_client_test, start_after_stop_registers_again_on_the_same_call_id) {
    register_for(600);
    client().stop({});
    answer(200);
    ASSERT_EQ(status().state, registration_state::unregistered);
    client().start();
    EXPECT_EQ(status().state, registration_state::registering);
    const auto all = registers();
    EXPECT_EQ(all.back().call_id(), all.front().call_id());
    EXPECT_GT(all.back().cseq().seq, all[all.size() - 2].cseq().seq);
    registrar_accepts(600);
    EXPECT_EQ(status().state, registration_state::registered);
}

TEST_F(registration_client_test, destroying_the_client_leaves_no_timer_behind) {
    register_for(600);
    client_.reset();
    clock.advance(3600s);
    EXPECT_EQ(register_count(), 2U);
}

}  // namespace
}  // namespace b2b::registration
