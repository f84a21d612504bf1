// The status page's HTML: escaping of everything a peer chose, and what each section shows.
#include "admin/detail/html.hpp"
#include "admin/status_page.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

namespace b2b::admin {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

TEST(html_escape, the_five_markup_characters_become_references) {
    EXPECT_EQ(detail::escape("<script>alert('x')</script> & \"q\""),
              "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
    EXPECT_EQ(detail::escape("plain 1000@pbx.local"), "plain 1000@pbx.local");
    EXPECT_EQ(detail::escape(""), "");
}

TEST(html_escape, broken_utf8_and_controls_become_the_replacement_character) {
    EXPECT_EQ(detail::escape("M\xC3\xBCller \xE2\x82\xAC \xF0\x9F\x93\x9E"), "M\xC3\xBCller \xE2\x82\xAC \xF0\x9F\x93\x9E");
    EXPECT_EQ(detail::escape("a\xFF"
                             "b"),
              "a\xEF\xBF\xBD"
              "b");
    EXPECT_EQ(detail::escape("\xC3"), "\xEF\xBF\xBD");                   // cut sequence
    EXPECT_EQ(detail::escape("\xC0\xBC"), "\xEF\xBF\xBD\xEF\xBF\xBD");   // overlong '<'
    EXPECT_EQ(detail::escape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
    EXPECT_EQ(detail::escape(std::string("a\0b", 3)), "a\xEF\xBF\xBD"
                                                      "b");
    EXPECT_EQ(detail::escape("tab\tline\r\n"), "tab\tline\r\n");
}

TEST(status_page, short_durations) {
    EXPECT_EQ(short_duration(0s), "0s");
    EXPECT_EQ(short_duration(45s), "45s");
    EXPECT_EQ(short_duration(245s), "4m 05s");
    EXPECT_EQ(short_duration(2h + 3min + 9s), "2h 03m");
    EXPECT_EQ(short_duration(std::chrono::hours(24 * 3 + 4)), "3d 04h");
    EXPECT_EQ(short_duration(-5s), "0s");
}

// 2026-12-02T10:00:00Z
const system_clock::time_point t0 = system_clock::from_time_t(1796205600);

status_snapshot hostile_snapshot() {
    status_snapshot s;
    s.now = t0;
    s.version = "1.2.3 (abc1234)";
    s.uptime = 3h + 4min;
    status_snapshot::trunk_row pinged;
    pinged.name = "carrier<b>";
    pinged.options_interval = 30s;
    pinged.up = false;
    pinged.active_calls = 1;
    status_snapshot::registration_row reg;
    reg.state = registration::registration_state::failing;
    reg.failure = registration::attempt_outcome::forbidden;
    reg.last_status = 403;
    reg.last_reason = "<script>alert(1)</script>";
    reg.last_warning = "399 gw \"<img src=x onerror=alert(2)>\"";
    reg.next_attempt = t0 + 95s;
    pinged.registration = reg;
    s.trunks.push_back(pinged);
    status_snapshot::trunk_row quiet;
    quiet.name = "backup";
    s.trunks.push_back(quiet);

    s.active_calls = 25;
    b2bua::call_summary c;
    c.id = 17;
    c.direction = b2bua::call_direction::outbound;
    c.state = "ringing";
    c.trunk = "carrier<b>";
    c.caller = "<script>document.cookie</script>";
    c.dialled = "0049301234";
    c.start = t0 - 65s;
    s.calls.push_back(c);
    s.pbx_bindings = 3;

    b2bua::auth_failure_entry e;
    e.last.time = t0 - 2s;
    e.first = t0 - 30s;
    e.count = 4;
    e.last.direction = b2bua::auth_direction::downstream;
    e.last.reason = auth::failure::wrong_password;
    e.last.source = sip::endpoint{boost::asio::ip::make_address("127.0.0.1"), 5062};
    e.last.username = "<script>alert('u')</script>";
    e.last.realm = "pbx.local";
    e.last.our_realm = "pbx.local";
    e.last.peer = "pbx.local";
    e.last.method = "INVITE";
    e.last.call_id = "c1@127.0.0.1";
    e.last.status = 403;
    s.failures.push_back(e);
    b2bua::auth_failure_entry up;
    up.last.time = t0 - 60s;
    up.first = up.last.time;
    up.last.direction = b2bua::auth_direction::upstream;
    up.last.reason = auth::failure::forbidden;
    up.last.trunk = "carrier";
    up.last.peer = "carrier";
    up.last.peer_host = "127.0.0.2";
    up.last.username = "trunkuser";
    up.last.method = "INVITE";
    up.last.status = 403;
    up.last.reason_phrase = "</td><script>x()</script>";
    s.failures.push_back(up);
    return s;
}

TEST(status_page, nothing_a_peer_chose_becomes_markup) {
    const auto html = render_status_page(hostile_snapshot());
    // The page has no script of its own, so any "<script" would be a peer's.
    EXPECT_EQ(html.find("<script"), std::string::npos) << html;
    EXPECT_EQ(html.find("<img"), std::string::npos);
    EXPECT_EQ(html.find("<b>"), std::string::npos);
    EXPECT_EQ(html.find("</td><script"), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);  // reason phrase
    EXPECT_NE(html.find("&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);    // Warning
    EXPECT_NE(html.find("carrier&lt;b&gt;"), std::string::npos);                       // trunk name
    EXPECT_NE(html.find("&lt;script&gt;document.cookie&lt;/script&gt;"), std::string::npos);  // caller
    EXPECT_NE(html.find("&lt;script&gt;alert(&#39;u&#39;)&lt;/script&gt;"), std::string::npos);  // user name
    EXPECT_NE(html.find("&lt;/td&gt;&lt;script&gt;x()&lt;/script&gt;"), std::string::npos);  // upstream phrase
}

TEST(status_page, shows_trunks_calls_registrations_failures_and_the_footer) {
    const auto s = hostile_snapshot();
    const auto html = render_status_page(s);
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(html.find("<meta http-equiv=\"refresh\" content=\"10\">"), std::string::npos);
    // Trunks: health by OPTIONS, registration state with the next attempt.
    EXPECT_NE(html.find("<span class=\"bad\">down</span>"), std::string::npos);
    EXPECT_NE(html.find("OPTIONS every 30s"), std::string::npos);
    EXPECT_NE(html.find("not probed"), std::string::npos);  // backup: no pings
    EXPECT_NE(html.find("<span class=\"bad\">failing</span> <small>(forbidden)</small>"), std::string::npos);
    EXPECT_NE(html.find("last answer 403 &lt;script&gt;"), std::string::npos);
    EXPECT_NE(html.find("next attempt in 1m 35s"), std::string::npos);
    EXPECT_NE(html.find("does not register"), std::string::npos);
    // Calls: the count, the row, and a pointer to the rest.
    EXPECT_NE(html.find("Active calls: 25"), std::string::npos);
    EXPECT_NE(html.find("<td>outbound</td>"), std::string::npos);
    EXPECT_NE(html.find("<td>0049301234</td><td>ringing</td><td>1m 05s</td>"), std::string::npos);
    EXPECT_NE(html.find("the first 1 of 25"), std::string::npos);
    EXPECT_NE(html.find("3 binding(s) of PBX accounts"), std::string::npos);
    // Failures: newest first, with the time the API gives, the peer's address and the hint.
    const auto down = html.find("<td class=\"time\">2026-12-02T09:59:58.000Z</td>");
    const auto upstream = html.find("2026-12-02T09:59:00.000Z");
    ASSERT_NE(down, std::string::npos);
    ASSERT_NE(upstream, std::string::npos);
    EXPECT_LT(down, upstream);
    EXPECT_NE(html.find("<br><small>127.0.0.1:5062</small>"), std::string::npos);
    EXPECT_NE(html.find("<br><small>127.0.0.2</small>"), std::string::npos);
    EXPECT_NE(html.find("<span class=\"bad\">wrong_password</span>"), std::string::npos);
    EXPECT_NE(html.find("<td>4</td>"), std::string::npos);
    EXPECT_NE(html.find(detail::escape(b2bua::hint(s.failures[0]))), std::string::npos);
    EXPECT_NE(html.find("with a wrong digest"), std::string::npos);
    EXPECT_NE(html.find(detail::escape(b2bua::hint(s.failures[1]))), std::string::npos);
    // Summary and footer.
    EXPECT_NE(html.find("<span class=\"bad\">1 down</span>"), std::string::npos);
    EXPECT_NE(html.find("<span class=\"bad\">1 not registered</span>"), std::string::npos);
    EXPECT_NE(html.find("b2bua 1.2.3 (abc1234) &middot; up 3h 04m"), std::string::npos);
}

TEST(status_page, a_trunk_another_node_registers_is_named_and_not_counted_as_unregistered) {
    auto s = hostile_snapshot();
    status_snapshot::trunk_row shared;
    shared.name = "shared";
    status_snapshot::registration_row reg;  // this node's idle client: unregistered
    reg.registered_by = "node<2>";
    shared.registration = reg;
    s.trunks.push_back(shared);
    const auto html = render_status_page(s);
    EXPECT_NE(html.find("<span class=\"ok\">elsewhere</span><br><small>registered by node node&lt;2&gt; of the cluster"),
              std::string::npos)
        << html;
    EXPECT_NE(html.find("<span class=\"bad\">1 not registered</span>"), std::string::npos) << "carrier only";
    s.trunks.back().registration->registered_by = "";
    EXPECT_NE(render_status_page(s).find("registered by another node of the cluster"), std::string::npos);
}

TEST(status_page, an_idle_system_says_so) {
    status_snapshot s;
    s.now = t0;
    s.version = "1.0.0";
    const auto html = render_status_page(s);
    EXPECT_NE(html.find("no trunk configured"), std::string::npos);
    EXPECT_NE(html.find("Active calls: 0"), std::string::npos);
    EXPECT_EQ(html.find("<th>direction</th>"), std::string::npos);  // no empty tables
    EXPECT_NE(html.find("none recorded"), std::string::npos);
    EXPECT_NE(html.find("<span class=\"ok\">0 recent authentication failure(s)</span>"), std::string::npos);
    EXPECT_EQ(html.find("not registered"), std::string::npos);  // no trunk registers: nothing to count
}

}  // namespace
}  // namespace b2b::admin
