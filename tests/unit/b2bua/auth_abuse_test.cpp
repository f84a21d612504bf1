// Authentication under abuse: stateless challenges, bounded and rate-limited failure log lines.
#include "tests/unit/b2bua/call_flow.hpp"

#include "b2bua/failure_log_limiter.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace b2b::b2bua::test {
namespace {

using namespace std::chrono_literals;

// ------------------------------------------------------------------ stateless challenges

TEST_F(call_flow, a_challenge_is_sent_once_and_holds_no_transaction) {
    pbx_call c = pbx.new_call();
    const std::string invite = pbx.invite_bytes(c);
    pbx.send(invite);
    auto challenge = pbx.expect("SIP/2.0 407");
    // Nothing is held for it: no 100 Trying, no server transaction, no Timer G/H.
    EXPECT_EQ(txm.server_count(), 0u);
    clock.advance(40s);
    pbx.expect_nothing();  // never retransmitted: no reflection of one forged INVITE
    EXPECT_EQ(txm.server_count(), 0u);

    // The ACK for it matches nothing and is absorbed without a word.
    pbx.ack_failure(c, challenge);
    pbx.expect_nothing();
    trunk.expect_nothing();

    // The INVITE retransmitted (its 407 lost): simply challenged again, with a fresh nonce.
    pbx.send(invite);
    auto again = pbx.expect("SIP/2.0 407");
    EXPECT_NE(again.find(sip::header_id::proxy_authenticate)->value,
              challenge.find(sip::header_id::proxy_authenticate)->value);
    EXPECT_EQ(txm.server_count(), 0u);
    EXPECT_EQ(counter("b2bua_auth_challenges_total", {{"direction", "downstream"}}), 2);

    // And the PBX that got it answers and calls as usual.
    pbx.authenticate(c, again);
    trunk.expect("INVITE");
}

TEST_F(call_flow, a_refusal_after_the_challenge_keeps_its_transaction) {
    // Only challenges are stateless: a 403 is retransmitted until ACKed like any final response.
    pbx_call c = pbx.new_call();
    pbx.invite(c);
    pbx.authenticate(c, pbx.expect("SIP/2.0 407"), "pbxuser", "wrong");
    auto refused = pbx.expect("SIP/2.0 403");
    EXPECT_EQ(txm.server_count(), 1u);
    clock.advance(1s);
    EXPECT_EQ(pbx.take_matching("SIP/2.0 403").size(), 1u);  // Timer G
    pbx.ack_failure(c, refused);
    clock.advance(10s);
    EXPECT_EQ(txm.server_count(), 0u);
}

// ------------------------------------------------------------------ failure log lines

class log_capture {
public:
    log_capture() {
        previous_ = spdlog::get("b2bua");
        if (previous_) spdlog::drop("b2bua");
        auto logger = std::make_shared<spdlog::logger>("b2bua", std::make_shared<spdlog::sinks::ostream_sink_st>(out_));
        logger->set_pattern("%l %v");
        logger->set_level(spdlog::level::info);
        spdlog::register_logger(logger);
    }
    ~log_capture() {
        spdlog::drop("b2bua");
        if (previous_) spdlog::register_logger(previous_);
    }
    log_capture(const log_capture&) = delete;
    log_capture& operator=(const log_capture&) = delete;

    std::vector<std::string> lines_with(std::string_view what) const {
        std::vector<std::string> out;
        std::istringstream in(out_.str());
        for (std::string line; std::getline(in, line);) {
            if (line.find(what) != std::string::npos) out.push_back(line);
        }
        return out;
    }
    std::size_t bytes() const { return out_.str().size(); }

private:
    std::ostringstream out_;
    std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(call_flow, attacker_sized_fields_are_cut_and_failure_lines_are_limited_per_source) {
    log_capture log;
    cfg.security.failure_log_interval = 60s;
    core watched(cfg, net, clock, metrics, auth);  // logs through the capture
    sip::transaction_manager m(net, clock, watched, sip::transaction_config{}, &metrics);
    watched.attach(m);
    watched.start();
    net.set_user(&m);

    // 50 answers naming a 60 KB user, each to a fresh challenge: 50 unknown_user failures.
    const std::string huge(60000, 'u');
    std::size_t sent = 0;
    for (int i = 0; i < 50; ++i) {
        pbx_call c = pbx.new_call();
        pbx.invite(c);
        auto challenge = pbx.expect("SIP/2.0 407");
        pbx.ack_failure(c, challenge);
        ++c.cseq;
        const std::string request = pbx.invite_bytes(
            c, pbx_actor::answer_challenge(challenge, huge, "guess", pbx.request_uri(c)));
        sent += request.size();
        pbx.send(request);
        pbx.ack_failure(c, pbx.expect("SIP/2.0 403"));
    }
    EXPECT_EQ(counter("b2bua_auth_failures_total", {{"direction", "downstream"}, {"reason", "unknown_user"}}), 50);
    const auto failures = log.lines_with("auth failure downstream");
    ASSERT_EQ(failures.size(), 3u);  // the first few of the interval
    for (const auto& line : failures) {
        EXPECT_LT(line.size(), 600u) << line.substr(0, 300);
        EXPECT_NE(line.find("(+59936 bytes)"), std::string::npos) << line.substr(0, 300);
    }
    EXPECT_TRUE(log.lines_with("more in the last").empty());
    // The interval ends: one summary line for the source, whatever the number held back.
    clock.advance(61s);
    const auto summaries = log.lines_with("more in the last 60 s not logged");
    ASSERT_EQ(summaries.size(), 1u);
    EXPECT_NE(summaries[0].find("auth failures from 127.0.0.11: 47 more"), std::string::npos) << summaries[0];
    EXPECT_NE(summaries[0].find("last reason=unknown_user"), std::string::npos) << summaries[0];
    // 3 MB of attack, a few hundred bytes of log.
    EXPECT_GT(sent, 3'000'000u);
    EXPECT_LT(log.bytes(), 4000u) << "log bytes for " << sent << " bytes of requests";
    net.set_user(&txm);
}

// ------------------------------------------------------------------ the limiter itself

const auto t0 = std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 50);
const auto attacker = boost::asio::ip::make_address("203.0.113.66");
const auto pbx_address = boost::asio::ip::make_address("192.0.2.10");

failure_log_limiter::options limits(std::size_t sources = 4096) {
    failure_log_limiter::options o;
    o.lines_per_interval = 3;
    o.interval = 60s;
    o.max_sources = sources;
    return o;
}

TEST(failure_log_limiter, a_few_lines_then_one_summary_per_interval) {
    failure_log_limiter l(limits());
    int logged = 0;
    for (int i = 0; i < 1000; ++i) {
        const auto v = l.on_failure(attacker, "wrong_password", t0 + std::chrono::milliseconds(i));
        logged += v.log;
        EXPECT_FALSE(v.previous);
    }
    EXPECT_EQ(logged, 3);
    // Another source is not silenced by the first.
    EXPECT_TRUE(l.on_failure(pbx_address, "stale_nonce", t0 + 1s).log);
    // The next failure after the interval: the summary of the one that ended comes first.
    const auto next = l.on_failure(attacker, "unknown_user", t0 + 61s);
    EXPECT_TRUE(next.log);
    ASSERT_TRUE(next.previous);
    EXPECT_EQ(next.previous->source, "203.0.113.66");
    EXPECT_EQ(next.previous->suppressed, 997u);
    EXPECT_EQ(next.previous->logged, 3u);
    EXPECT_EQ(next.previous->last_reason, "wrong_password");
    EXPECT_EQ(to_string(*next.previous),
              "auth failures from 203.0.113.66: 997 more in the last 60 s not logged (3 logged; last "
              "reason=wrong_password); every one is counted in b2bua_auth_failures_total and kept in GET "
              "/api/v1/auth/failures");
}

TEST(failure_log_limiter, a_source_that_goes_quiet_gets_its_summary_from_expire) {
    failure_log_limiter l(limits());
    for (int i = 0; i < 10; ++i) l.on_failure(attacker, "wrong_password", t0);
    l.on_failure(pbx_address, "stale_nonce", t0);  // nothing held back: no summary
    EXPECT_TRUE(l.expire(t0 + 59s).empty());
    const auto due = l.expire(t0 + 60s);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].suppressed, 7u);
    EXPECT_EQ(l.size(), 0u);  // both forgotten
    EXPECT_TRUE(l.on_failure(attacker, "wrong_password", t0 + 61s).log);
}

TEST(failure_log_limiter, many_sources_share_one_window_beyond_the_bound) {
    failure_log_limiter l(limits(100));
    int logged = 0;
    for (std::uint32_t i = 0; i < 10000; ++i) {
        const auto from = boost::asio::ip::make_address_v4(0x0a000000U + i);
        logged += l.on_failure(from, "unknown_user", t0).log;
    }
    EXPECT_EQ(l.size(), 100u);
    EXPECT_EQ(logged, 100 + 3);  // each tracked source's first line, then 3 for all the others
    const auto due = l.expire(t0 + 60s);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].source, "");
    EXPECT_EQ(due[0].suppressed, 10000u - 103u);
    EXPECT_NE(to_string(due[0]).find("other sources"), std::string::npos);
}

TEST(failure_log_limiter, a_clock_stepping_back_ends_the_window) {
    failure_log_limiter l(limits());
    for (int i = 0; i < 5; ++i) l.on_failure(attacker, "wrong_password", t0);
    const auto v = l.on_failure(attacker, "wrong_password", t0 - 10s);
    EXPECT_TRUE(v.log);
    ASSERT_TRUE(v.previous);
    EXPECT_EQ(v.previous->suppressed, 2u);
}

}  // namespace
}  // namespace b2b::b2bua::test
