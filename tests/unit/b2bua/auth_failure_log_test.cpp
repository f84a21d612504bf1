// The "why 401" log: folding, its bound, filters, the summary, every hint, and the JSON shapes.
#include "b2bua/auth_failure_log.hpp"

#include "b2bua/auth_failure_json.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>

namespace b2b::b2bua {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::system_clock;

/// A filter with one field set (designated initializers would leave the others to warnings).
template <class Set>
auth_failure_filter only(Set set) {
    auth_failure_filter f;
    set(f);
    return f;
}

// 2026-12-02T10:00:00Z: a minute boundary.
const clock_type::time_point t0 = clock_type::time_point(std::chrono::seconds(1796205600));

sip::endpoint at(const char* address, unsigned short port = 5060) {
    return sip::endpoint{boost::asio::ip::make_address(address), port};
}

auth_failure_record downstream(auth::failure reason, const char* source, clock_type::time_point t) {
    auth_failure_record r;
    r.time = t;
    r.direction = auth_direction::downstream;
    r.reason = reason;
    r.source = at(source);
    r.username = "pbxuser";
    r.realm = "pbx.local";
    r.our_realm = "pbx.local";
    r.peer = "pbx.local";
    r.method = "INVITE";
    r.call_id = "call-1@10.0.0.5";
    r.status = 403;
    r.algorithms_offered = {"MD5"};
    return r;
}

auth_failure_record upstream(auth::failure reason, clock_type::time_point t) {
    auth_failure_record r;
    r.time = t;
    r.direction = auth_direction::upstream;
    r.reason = reason;
    r.username = "trunkuser";
    r.realm = "carrier.example";
    r.trunk = "acme";
    r.peer = "acme";
    r.peer_host = "sip.carrier.example";
    r.method = "INVITE";
    r.call_id = "leg-b-1";
    r.status = 401;
    r.reason_phrase = "Unauthorized";
    r.algorithms_offered = {"MD5", "SHA-256", "SHA-512-256"};
    return r;
}

std::string hint_of(const auth_failure_record& r, std::uint64_t count = 1) {
    return hint(auth_failure_entry{r, r.time, count});
}

bool has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

TEST(auth_failure_log, one_source_folds_into_one_entry_per_minute_and_reason) {
    auth_failure_log log(100);
    for (int i = 0; i < 50; ++i) log.record(downstream(auth::failure::wrong_password, "10.0.0.5", t0 + i * 1s));
    ASSERT_EQ(log.size(), 1u);
    auto e = log.query({}).at(0);
    EXPECT_EQ(e.count, 50u);
    EXPECT_EQ(e.first, t0);
    EXPECT_EQ(e.last.time, t0 + 49s);
    // Another port of the same address is the same source; another reason, address or minute is not.
    auto other_port = downstream(auth::failure::wrong_password, "10.0.0.5", t0 + 50s);
    other_port.source = at("10.0.0.5", 40000);
    log.record(other_port);
    EXPECT_EQ(log.size(), 1u);
    log.record(downstream(auth::failure::unknown_user, "10.0.0.5", t0 + 51s));
    log.record(downstream(auth::failure::wrong_password, "10.0.0.6", t0 + 52s));
    log.record(downstream(auth::failure::wrong_password, "10.0.0.5", t0 + 60s));
    EXPECT_EQ(log.size(), 4u);
    // Upstream failures fold by trunk.
    log.record(upstream(auth::failure::rejected, t0 + 61s));
    log.record(upstream(auth::failure::rejected, t0 + 62s));
    EXPECT_EQ(log.size(), 5u);
    EXPECT_EQ(log.query({}).at(0).count, 2u);
}

TEST(auth_failure_log, is_bounded_and_an_attack_from_one_source_does_not_flush_the_rest) {
    auth_failure_log log(3);
    log.record(upstream(auth::failure::forbidden, t0));
    for (int i = 0; i < 10'000; ++i) log.record(downstream(auth::failure::unknown_user, "192.0.2.66", t0 + 1s));
    log.record(downstream(auth::failure::wrong_password, "10.0.0.5", t0 + 2s));
    EXPECT_EQ(log.size(), 3u);
    auto all = log.query({});
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[2].last.reason, auth::failure::forbidden);  // still there
    EXPECT_EQ(all[1].count, 10'000u);
    // Full: the entry made first goes, and its fold key with it.
    log.record(downstream(auth::failure::wrong_password, "10.0.0.7", t0 + 3s));
    all = log.query({});
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all.back().last.reason, auth::failure::unknown_user);
    log.record(upstream(auth::failure::forbidden, t0 + 4s));  // a new entry, not a fold
    EXPECT_EQ(log.query({}).at(0).count, 1u);
    EXPECT_EQ(log.size(), 3u);

    auth_failure_log off(0);
    off.record(upstream(auth::failure::forbidden, t0));
    EXPECT_EQ(off.size(), 0u);
}

TEST(auth_failure_log, attacker_sized_fields_are_cut_marked_and_made_printable) {
    auth_failure_log log(10);
    auto r = downstream(auth::failure::unknown_user, "192.0.2.66", t0);
    r.username = std::string(60'000, 'a');
    r.call_id = "abc\x1b[31mred\r\n";
    // A two-byte UTF-8 character across the cut is not split.
    r.realm = std::string(127, 'r') + "\xc3\xa9" + "tail";
    log.record(r);
    const auto e = log.query({}).at(0);
    EXPECT_EQ(e.last.username, std::string(128, 'a') + std::string(auth_failure_log::truncation_mark));
    EXPECT_EQ(e.last.call_id, "abc?[31mred??");
    EXPECT_EQ(e.last.realm, std::string(127, 'r') + std::string(auth_failure_log::truncation_mark));
    EXPECT_LT(hint(e).size(), 600u);
}

TEST(auth_failure_log, query_filters_and_orders_newest_first) {
    auth_failure_log log(100);
    log.record(downstream(auth::failure::wrong_password, "10.0.0.5", t0));
    log.record(upstream(auth::failure::rejected, t0 + 1s));
    log.record(downstream(auth::failure::unknown_user, "10.0.0.6", t0 + 2s));
    log.record(downstream(auth::failure::wrong_password, "10.0.0.5", t0 + 3s));  // folds into the first
    auto all = log.query({});
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].last.reason, auth::failure::wrong_password);  // last seen at +3 s
    EXPECT_EQ(all[1].last.reason, auth::failure::unknown_user);
    EXPECT_EQ(all[2].last.reason, auth::failure::rejected);

    EXPECT_EQ(log.query(only([](auth_failure_filter& f) { f.direction = auth_direction::upstream; })).size(), 1u);
    EXPECT_EQ(log.query(only([](auth_failure_filter& f) { f.direction = auth_direction::downstream; })).size(), 2u);
    EXPECT_EQ(log.query(only([](auth_failure_filter& f) { f.reason = auth::failure::unknown_user; })).size(), 1u);
    EXPECT_EQ(log.query(only([](auth_failure_filter& f) { f.peer = "acme"; })).size(), 1u);
    EXPECT_EQ(log.query(only([](auth_failure_filter& f) { f.peer = "10.0.0.6"; })).size(), 1u);
    EXPECT_EQ(log.query(only([](auth_failure_filter& f) { f.peer = "pbx.local"; })).size(), 2u);
    EXPECT_EQ(log.query(only([](auth_failure_filter& f) { f.peer = "nobody"; })).size(), 0u);
    EXPECT_EQ(log.query(only([](auth_failure_filter& f) { f.since = t0 + 2s; })).size(), 2u);
    const auto one = log.query(only([](auth_failure_filter& f) { f.limit = 1; }));
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0].last.reason, auth::failure::wrong_password);
    EXPECT_EQ(log.query(only([](auth_failure_filter& f) { f.limit = 0; })).size(), 0u);
}

TEST(auth_failure_log, summary_counts_per_direction_reason_and_peer_with_the_top_sources) {
    auth_failure_log log(100);
    log.record(downstream(auth::failure::wrong_password, "10.0.0.5", t0 - 2h));  // outside the window
    for (int i = 0; i < 5; ++i) log.record(downstream(auth::failure::unknown_user, "192.0.2.66", t0 + i * 1s));
    for (int i = 0; i < 3; ++i) log.record(downstream(auth::failure::unknown_user, "192.0.2.67", t0 + 70s));
    log.record(downstream(auth::failure::wrong_password, "10.0.0.5", t0 + 80s));
    log.record(upstream(auth::failure::rejected, t0 + 90s));
    const auto s = log.summary(1h, t0 + 100s);
    EXPECT_EQ(s.window, 1h);
    ASSERT_EQ(s.counts.size(), 3u);
    EXPECT_EQ(s.counts[0].reason, auth::failure::unknown_user);
    EXPECT_EQ(s.counts[0].count, 8u);
    EXPECT_EQ(s.counts[0].peer, "pbx.local");
    EXPECT_EQ(s.counts[0].direction, auth_direction::downstream);
    ASSERT_EQ(s.top_sources.size(), 3u);  // downstream only
    EXPECT_EQ(s.top_sources[0].source, "192.0.2.66");
    EXPECT_EQ(s.top_sources[0].count, 5u);
    EXPECT_EQ(s.top_sources[1].source, "192.0.2.67");
    EXPECT_EQ(s.top_sources[2].source, "10.0.0.5");
    EXPECT_EQ(s.top_sources[2].count, 1u);
    EXPECT_TRUE(log.summary(1min, t0 + 10min).counts.empty());
}

TEST(auth_failure_log, the_logs_of_several_workers_read_as_one) {
    // One source whose requests two workers handled in the same minute is one entry, as one log
    // would make it; the summary counts every source of both, then keeps the top ten.
    auth_failure_log a(100), b(100);
    for (int i = 0; i < 3; ++i) a.record(downstream(auth::failure::wrong_password, "192.0.2.66", t0 + i * 1s));
    for (int i = 0; i < 2; ++i) b.record(downstream(auth::failure::wrong_password, "192.0.2.66", t0 + 10s + i * 1s));
    b.record(upstream(auth::failure::rejected, t0 + 20s));
    for (int i = 0; i < 12; ++i) {
        const std::string source = "198.51.100." + std::to_string(i + 1);
        auto& log = i % 2 == 0 ? a : b;
        for (int n = 0; n <= i % 6; ++n) log.record(downstream(auth::failure::unknown_user, source.c_str(), t0 + 30s));
    }
    const auto merged = merge_failures({a.query({}), b.query({})}, 100);
    const auto it = std::find_if(merged.begin(), merged.end(),
                                 [](const auto& e) { return e.last.reason == auth::failure::wrong_password; });
    ASSERT_NE(it, merged.end());
    EXPECT_EQ(it->count, 5u);
    EXPECT_EQ(it->first, t0);
    EXPECT_EQ(it->last.time, t0 + 11s);  // the latest facts
    EXPECT_EQ(merged.size(), 14u);       // one wrong_password, one rejected, twelve unknown_user sources
    EXPECT_TRUE(std::is_sorted(merged.begin(), merged.end(),
                               [](const auto& x, const auto& y) { return x.last.time > y.last.time; }));
    EXPECT_EQ(merge_failures({a.query({}), b.query({})}, 3).size(), 3u);

    const auto s = merge_summaries({a.summary(1h, t0 + 1min, std::numeric_limits<std::size_t>::max()), b.summary(1h, t0 + 1min, std::numeric_limits<std::size_t>::max())});
    ASSERT_EQ(s.counts.size(), 3u);
    EXPECT_EQ(s.counts[0].reason, auth::failure::unknown_user);
    EXPECT_EQ(s.counts[0].count, 2u * (1 + 2 + 3 + 4 + 5 + 6));
    EXPECT_EQ(s.counts[1].reason, auth::failure::wrong_password);
    EXPECT_EQ(s.counts[1].count, 5u);
    ASSERT_EQ(s.top_sources.size(), auth_failure_log::top_sources);
    EXPECT_EQ(s.top_sources[0].count, 6u);
    EXPECT_EQ(s.top_sources[1].count, 6u);
    // 3 failures on one worker and 2 on the other: 5, among the top three (alone it would not be).
    EXPECT_EQ(s.top_sources[2].source, "192.0.2.66");
    EXPECT_EQ(s.top_sources[2].count, 5u);
}

TEST(auth_failure_hint, the_issues_examples) {
    EXPECT_EQ(hint_of(downstream(auth::failure::wrong_password, "10.0.0.5", t0)),
              "user pbxuser at 10.0.0.5 answered the challenge for realm pbx.local with a wrong digest: check the "
              "password configured on the PBX for this user");
    auto realm = downstream(auth::failure::realm_mismatch, "10.0.0.5", t0);
    realm.realm = "asterisk";
    EXPECT_TRUE(has(hint_of(realm), "the PBX at 10.0.0.5 answered for realm asterisk; we challenge with realm pbx.local"))
        << hint_of(realm);
    EXPECT_EQ(hint_of(upstream(auth::failure::rejected, t0)),
              "provider at sip.carrier.example challenged again after our answer for trunkuser at realm "
              "carrier.example: the trunk password is wrong, verify it with the provider");
    auto forbidden = upstream(auth::failure::forbidden, t0);
    forbidden.status = 403;
    forbidden.reason_phrase = "Caller ID not allowed";
    EXPECT_EQ(hint_of(forbidden), "provider at sip.carrier.example answered 403 \"Caller ID not allowed\" to trunkuser: "
                                  "a policy refusal or wrong credentials, read the reason phrase");
    forbidden.warning = "399 gw7 \"Caller ID not allowed\"";
    EXPECT_TRUE(has(hint_of(forbidden), "(Warning: 399 gw7 \"Caller ID not allowed\")"));
    auto unanswered = downstream(auth::failure::challenge_unanswered, "10.0.0.5", t0);
    unanswered.algorithms_offered = {"SHA-256", "MD5"};
    EXPECT_TRUE(has(hint_of(unanswered),
                    "the PBX at 10.0.0.5 never answered a challenge offering SHA-256, MD5: some clients give up on any "
                    "algorithm they do not know; offer MD5 only to that network (downstream.algorithms_for)"))
        << hint_of(unanswered);
}

TEST(auth_failure_hint, stale_nonce_is_normal_once_and_a_problem_when_repeated) {
    const auto r = downstream(auth::failure::stale_nonce, "10.0.0.5", t0);
    EXPECT_TRUE(has(hint_of(r, 1), "normal once")) << hint_of(r, 1);
    EXPECT_TRUE(has(hint_of(r, 7), "7 times in a minute")) << hint_of(r, 7);
    EXPECT_TRUE(has(hint_of(r, 7), "clock"));
}

TEST(auth_failure_hint, unsupported_algorithm_says_what_was_asked_and_what_we_have) {
    auto down = downstream(auth::failure::unsupported_algorithm, "10.0.0.5", t0);
    down.algorithm_asked = "SHA-1";
    EXPECT_TRUE(has(hint_of(down), "algorithm SHA-1")) << hint_of(down);
    EXPECT_TRUE(has(hint_of(down), "offered to it: MD5"));
    auto up = upstream(auth::failure::unsupported_algorithm, t0);
    up.algorithm_asked = "SHA-512-256-sess";
    EXPECT_TRUE(has(hint_of(up), "asked for algorithm SHA-512-256-sess")) << hint_of(up);
    EXPECT_TRUE(has(hint_of(up), "we support MD5, SHA-256, SHA-512-256"));
}

TEST(auth_failure_hint, source_not_allowed_names_the_source_seen) {
    auto r = downstream(auth::failure::source_not_allowed, "203.0.113.9", t0);
    r.method = "OPTIONS";
    EXPECT_TRUE(has(hint_of(r), "a OPTIONS came from 203.0.113.9")) << hint_of(r);
    EXPECT_TRUE(has(hint_of(r), "downstream.allowed_sources"));
}

TEST(auth_failure_hint, a_registration_refused_again_and_again_says_how_often) {
    auto r = upstream(auth::failure::rejected, t0);
    r.method = "REGISTER";
    r.refused_in_a_row = 1;
    EXPECT_FALSE(has(hint_of(r), "in a row"));
    r.refused_in_a_row = 4;
    EXPECT_TRUE(has(hint_of(r), "our REGISTER to acme has now been refused 4 times in a row")) << hint_of(r);
}

TEST(auth_failure_hint, every_failure_has_a_hint_in_both_directions_naming_what_was_seen) {
    for (const auto f : auth::all_failures()) {
        for (const bool up : {false, true}) {
            auto r = up ? upstream(f, t0) : downstream(f, "10.0.0.5", t0);
            const auto h = hint_of(r);
            EXPECT_GT(h.size(), 40u) << auth::to_string(f);
            EXPECT_EQ(h.find('\n'), std::string::npos) << auth::to_string(f);
            // Who it is about is in every hint of the direction the failure belongs to.
            const auto downstream_values = auth::downstream_failures();
            const bool belongs_down =
                std::find(downstream_values.begin(), downstream_values.end(), f) != downstream_values.end();
            if (!up && belongs_down) {
                EXPECT_TRUE(has(h, "10.0.0.5")) << auth::to_string(f) << ": " << h;
            }
            const auto upstream_values = auth::upstream_failures();
            const bool belongs_up =
                std::find(upstream_values.begin(), upstream_values.end(), f) != upstream_values.end();
            if (up && belongs_up) {
                EXPECT_TRUE(has(h, "sip.carrier.example")) << auth::to_string(f) << ": " << h;
            }
        }
    }
}

TEST(auth_failure_hint, a_pbx_target_challenging_us_is_called_the_pbx) {
    auto r = upstream(auth::failure::rejected, t0);
    r.direction = auth_direction::downstream;
    r.trunk.clear();
    r.peer = "office";
    r.peer_host = "10.0.0.5";
    EXPECT_TRUE(has(hint_of(r), "the PBX at 10.0.0.5 challenged again")) << hint_of(r);
}

TEST(auth_failure_json, a_failure_has_the_design_shape) {
    auth_failure_log log(10);
    auto r = upstream(auth::failure::forbidden, t0 + 123ms);
    r.status = 403;
    r.reason_phrase = "Caller ID not allowed";
    log.record(r);
    r.time = t0 + 2s + 5ms;
    log.record(r);
    const auto doc = to_json(log.query({}));
    const auto& f = doc.at("failures").as_array().at(0).as_object();
    EXPECT_EQ(f.at("time").as_string(), "2026-12-02T10:00:02.005Z");
    EXPECT_EQ(f.at("first").as_string(), "2026-12-02T10:00:00.123Z");
    EXPECT_EQ(f.at("count").as_uint64(), 2u);
    EXPECT_EQ(f.at("direction").as_string(), "upstream");
    EXPECT_TRUE(f.at("source").is_null());
    EXPECT_EQ(f.at("username").as_string(), "trunkuser");
    EXPECT_EQ(f.at("realm").as_string(), "carrier.example");
    EXPECT_EQ(f.at("trunk").as_string(), "acme");
    EXPECT_EQ(f.at("peer").as_string(), "acme");
    EXPECT_EQ(f.at("reason").as_string(), "forbidden");
    EXPECT_EQ(f.at("method").as_string(), "INVITE");
    EXPECT_EQ(f.at("call_id").as_string(), "leg-b-1");
    EXPECT_EQ(f.at("status").as_int64(), 403);
    EXPECT_EQ(f.at("reason_phrase").as_string(), "Caller ID not allowed");
    EXPECT_TRUE(f.at("warning").is_null());
    EXPECT_EQ(f.at("hint").as_string(), hint(log.query({}).at(0)));

    auth_failure_log down(10);
    auto d = downstream(auth::failure::wrong_password, "10.0.0.5", t0);
    d.username.clear();
    down.record(d);
    const auto g = to_json(down.query({}).at(0)).as_object();
    EXPECT_EQ(g.at("source").as_string(), "10.0.0.5:5060");
    EXPECT_TRUE(g.at("username").is_null());
    EXPECT_TRUE(g.at("trunk").is_null());
    EXPECT_EQ(g.at("peer").as_string(), "pbx.local");
}

TEST(auth_failure_json, the_summary_has_the_design_shape) {
    auth_failure_log log(10);
    log.record(downstream(auth::failure::unknown_user, "192.0.2.66", t0));
    log.record(downstream(auth::failure::unknown_user, "192.0.2.66", t0 + 1s));
    const auto doc = to_json(log.summary(1h, t0 + 2s)).as_object();
    EXPECT_EQ(doc.at("window_s").as_int64(), 3600);
    const auto& c = doc.at("counts").as_array().at(0).as_object();
    EXPECT_EQ(c.at("direction").as_string(), "downstream");
    EXPECT_EQ(c.at("reason").as_string(), "unknown_user");
    EXPECT_EQ(c.at("peer").as_string(), "pbx.local");
    EXPECT_EQ(c.at("count").as_uint64(), 2u);
    const auto& s = doc.at("top_sources").as_array().at(0).as_object();
    EXPECT_EQ(s.at("source").as_string(), "192.0.2.66");
    EXPECT_EQ(s.at("count").as_uint64(), 2u);
}

}  // namespace
}  // namespace b2b::b2bua
