// The session timer of one leg (RFC 4028): parsing, negotiation both ways, deadlines on a clock of our own.
#include "dialog/session_timer.hpp"

#include "sip/message/message.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace b2b::dialog {
namespace {

using namespace std::chrono_literals;
using time_point = session_timer::time_point;

sip::message parse(const std::string& headers, bool response = false) {
    std::string text = response ? "SIP/2.0 200 OK\r\n" : "INVITE sip:1000@127.0.0.1 SIP/2.0\r\n";
    text += "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n"
            "Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n";
    text += headers;
    text += "Content-Length: 0\r\n\r\n";
    auto m = sip::parse_message(text);
    EXPECT_TRUE(m.has_value()) << text;
    return m ? std::move(*m) : sip::message{};
}

const time_point t0 = time_point{} + 1000h;

TEST(session_timer, parses_session_expires_min_se_and_option_tags) {
    auto m = parse("Session-Expires: 1800 ; refresher = UAS\r\nMin-SE: 120;x=y\r\nSupported: 100rel, Timer\r\n"
                   "Allow: INVITE, ACK, update\r\n");
    auto se = parse_session_expires(m);
    ASSERT_TRUE(se);
    EXPECT_EQ(se->interval, 1800u);
    EXPECT_EQ(se->refresher, refresher_param::uas);
    EXPECT_EQ(parse_min_se(m), 120u);
    EXPECT_TRUE(supports_timer(m));
    EXPECT_TRUE(allows(m, "UPDATE"));
    EXPECT_FALSE(allows(m, "INFO"));

    auto compact = parse("x: 90\r\nRequire: timer\r\n");
    ASSERT_TRUE(parse_session_expires(compact));
    EXPECT_EQ(parse_session_expires(compact)->interval, 90u);
    EXPECT_FALSE(parse_session_expires(compact)->refresher);
    EXPECT_TRUE(supports_timer(compact));

    EXPECT_FALSE(parse_session_expires(parse("Session-Expires: soon\r\n")));
    EXPECT_FALSE(parse_session_expires(parse("Session-Expires: 99999999999\r\n")));
    EXPECT_FALSE(parse_session_expires(parse("")));
    EXPECT_FALSE(supports_timer(parse("Supported: timers\r\n")));
}

TEST(session_timer, uas_refuses_a_short_interval_only_to_a_uac_that_reads_422) {
    session_timer t(120);
    EXPECT_EQ(t.too_small(parse("Session-Expires: 90\r\nSupported: timer\r\n")), 120u);
    EXPECT_EQ(t.too_small(parse("Session-Expires: 120\r\nSupported: timer\r\n")), 0u);
    EXPECT_EQ(t.too_small(parse("Session-Expires: 90\r\n")), 0u);  // a proxy asked: raise it instead
    t.on_request_answered(parse("Session-Expires: 90\r\n"), 0, t0);
    EXPECT_EQ(t.interval(), 120u);
    EXPECT_EQ(t.who(), refresher::local);  // the UAC cannot refresh
    bool require = true;
    EXPECT_EQ(t.response_session_expires(&require), "120;refresher=uas");
    EXPECT_FALSE(require);
}

TEST(session_timer, uas_copies_the_refresher_the_uac_named_and_requires_timer_when_it_is_the_uac) {
    session_timer t;
    t.on_request_answered(parse("Session-Expires: 90;refresher=uac\r\nSupported: timer\r\n"), 1800, t0);
    EXPECT_EQ(t.current_state(), session_timer::state::waiting);
    EXPECT_EQ(t.interval(), 90u);
    EXPECT_EQ(t.who(), refresher::remote);
    bool require = false;
    EXPECT_EQ(t.response_session_expires(&require), "90;refresher=uac");
    EXPECT_TRUE(require);
    // As UAC of a request we relay on this leg, the peer stays the refresher: "uas".
    EXPECT_EQ(t.request_session_expires(), "90;refresher=uas");

    session_timer u;
    u.on_request_answered(parse("Session-Expires: 300;refresher=uas\r\nSupported: timer\r\n"), 0, t0);
    EXPECT_EQ(u.who(), refresher::local);
    EXPECT_EQ(u.response_session_expires(), "300;refresher=uas");
    EXPECT_EQ(u.request_session_expires(), "300;refresher=uac");
}

TEST(session_timer, uas_inserts_its_own_interval_only_when_asked_to) {
    session_timer off;
    off.on_request_answered(parse("Supported: timer\r\n"), 0, t0);
    EXPECT_EQ(off.current_state(), session_timer::state::inactive);
    EXPECT_EQ(off.response_session_expires(), "");
    EXPECT_FALSE(off.deadline());

    session_timer on;
    on.on_request_answered(parse(""), 1800, t0);
    EXPECT_EQ(on.current_state(), session_timer::state::scheduled);
    EXPECT_EQ(on.response_session_expires(), "1800;refresher=uas");
    // A later refresh without Session-Expires keeps the timer (§9) and restarts it.
    on.on_request_answered(parse(""), 1800, t0 + 100s);
    EXPECT_EQ(on.deadline(), t0 + 100s + 900s);
}

TEST(session_timer, uac_follows_the_2xx_or_refreshes_alone_when_the_uas_does_not_support_it) {
    session_timer t;
    t.on_success_received(parse("Session-Expires: 1800;refresher=uas\r\nRequire: timer\r\n", true), 1800, t0);
    EXPECT_EQ(t.who(), refresher::remote);
    EXPECT_EQ(t.deadline(), t0 + 1768s);  // 1800 - min(32, 600)

    session_timer alone;
    alone.on_success_received(parse("", true), 600, t0);
    EXPECT_EQ(alone.who(), refresher::local);
    EXPECT_EQ(alone.interval(), 600u);
    EXPECT_EQ(alone.deadline(), t0 + 300s);

    session_timer none;
    none.on_success_received(parse("", true), 0, t0);
    EXPECT_FALSE(none.active());
}

TEST(session_timer, refresher_refreshes_at_half_and_a_failed_refresh_is_retried_before_expiry) {
    session_timer t;
    t.on_success_received(parse("Session-Expires: 90;refresher=uac\r\n", true), 90, t0);
    EXPECT_EQ(t.deadline(), t0 + 45s);
    EXPECT_EQ(t.on_deadline(t0 + 44s), session_timer::action::none);  // a stale timer
    EXPECT_EQ(t.on_deadline(t0 + 45s), session_timer::action::refresh);
    EXPECT_EQ(t.current_state(), session_timer::state::refreshing);
    EXPECT_EQ(t.deadline(), t0 + 60s);  // 90 - min(32, 30)
    t.refresh_failed(t0 + 46s);         // a 491, say
    EXPECT_EQ(t.current_state(), session_timer::state::scheduled);
    EXPECT_EQ(t.deadline(), t0 + 53s);  // halfway to the expiry
    EXPECT_EQ(t.on_deadline(t0 + 53s), session_timer::action::refresh);
    t.on_success_received(parse("Session-Expires: 90;refresher=uac\r\n", true), 90, t0 + 54s);
    EXPECT_EQ(t.deadline(), t0 + 99s);
    EXPECT_EQ(t.on_deadline(t0 + 99s), session_timer::action::refresh);
    t.refresh_failed(t0 + 113s);  // one second before the expiry: no more tries
    EXPECT_EQ(t.deadline(), t0 + 114s);
    EXPECT_EQ(t.on_deadline(t0 + 114s), session_timer::action::expire);
    EXPECT_EQ(t.current_state(), session_timer::state::expired);
    EXPECT_FALSE(t.active());
}

TEST(session_timer, non_refresher_expires_unless_refreshed) {
    session_timer t;
    t.on_request_answered(parse("Session-Expires: 90;refresher=uac\r\nSupported: timer\r\n"), 0, t0);
    EXPECT_EQ(t.deadline(), t0 + 60s);
    t.on_request_answered(parse("Session-Expires: 90;refresher=uac\r\nSupported: timer\r\n"), 0, t0 + 45s);
    EXPECT_EQ(t.on_deadline(t0 + 60s), session_timer::action::none);
    EXPECT_EQ(t.on_deadline(t0 + 105s), session_timer::action::expire);
}

TEST(session_timer, offer_retries_once_with_the_min_se_of_a_422) {
    session_timer_offer o;
    o.interval = 90;
    EXPECT_EQ(o.session_expires_value(), "90");
    auto too_small = [](const std::string& min) {
        std::string text = "SIP/2.0 422 Session Interval Too Small\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n"
                           "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n";
        if (!min.empty()) text += "Min-SE: " + min + "\r\n";
        text += "Content-Length: 0\r\n\r\n";
        return *sip::parse_message(text);
    };
    EXPECT_FALSE(o.on_too_small(too_small("")));  // §6: no Min-SE, nothing to go by
    EXPECT_TRUE(o.on_too_small(too_small("300")));
    EXPECT_EQ(o.interval, 300u);
    EXPECT_EQ(o.min_se, 300u);
    EXPECT_FALSE(o.on_too_small(too_small("600")));  // once only
    session_timer_offer uac;
    uac.interval = 1800;
    uac.refresher = refresher_param::uac;
    EXPECT_EQ(uac.session_expires_value(), "1800;refresher=uac");
    EXPECT_FALSE(uac.on_too_small(too_small("90")));  // asks for less than we did: no use
}

}  // namespace
}  // namespace b2b::dialog
