// Signed nonces: round trip, expiry, skew, tampering, foreign secrets, garbage, source binding,
// nonce counts and the bounded table.
#include "auth/nonce.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace b2b::auth {
namespace {

using std::chrono::seconds;
using time_point = std::chrono::system_clock::time_point;

const time_point t0{seconds{1'700'000'000}};
const boost::asio::ip::address pbx = boost::asio::ip::make_address("192.0.2.10");

nonce_options fixed(std::string secret = "0123456789abcdef0123456789abcdef") {
    nonce_options o;
    o.secret = std::move(secret);
    return o;
}

constexpr std::string_view b64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

TEST(nonce, round_trip_is_valid) {
    signed_nonce_service s(fixed());
    const std::string n = s.issue(pbx, t0);
    EXPECT_EQ(n.size(), signed_nonce_service::encoded_length);
    for (char c : n) EXPECT_NE(b64url_alphabet.find(c), std::string_view::npos) << c;
    EXPECT_EQ(s.check(n, pbx, t0).status, nonce_status::valid);
}

TEST(nonce, each_issue_is_unique) {
    signed_nonce_service s(fixed());
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) seen.insert(s.issue(pbx, t0));
    EXPECT_EQ(seen.size(), 200u);
}

TEST(nonce, names_the_worker_that_issued_it) {
    for (const std::uint8_t worker : {std::uint8_t{0}, std::uint8_t{1}, std::uint8_t{5}, std::uint8_t{255}}) {
        nonce_options o = fixed();
        o.worker = worker;
        signed_nonce_service s(o);
        for (int i = 0; i < 50; ++i) {
            const std::string n = s.issue(pbx, t0);
            EXPECT_EQ(nonce_worker(n), worker) << n;
            EXPECT_EQ(s.check(n, pbx, t0).status, nonce_status::valid);
        }
    }
    nonce_options other = fixed();
    other.worker = 2;
    signed_nonce_service two(other);
    signed_nonce_service zero(fixed());
    // Another worker's nonce (same secret) has no slot here: stale, so the PBX retries at once.
    EXPECT_EQ(zero.check(two.issue(pbx, t0), pbx, t0).status, nonce_status::untracked);
}

TEST(nonce, only_our_shape_names_a_worker) {
    EXPECT_EQ(nonce_worker(""), std::nullopt);
    EXPECT_EQ(nonce_worker("abc"), std::nullopt);
    EXPECT_EQ(nonce_worker(std::string(64, '"')), std::nullopt);
    EXPECT_EQ(nonce_worker(std::string(65, 'A')), std::nullopt);
    EXPECT_EQ(nonce_worker(std::string(64, 'A')), 0);
    EXPECT_EQ(nonce_worker(std::string(64, '_')), 255);
}

TEST(nonce, expires_after_ttl) {
    signed_nonce_service s(fixed());
    const std::string n = s.issue(pbx, t0);
    EXPECT_EQ(s.check(n, pbx, t0 + seconds{299}).status, nonce_status::valid);
    EXPECT_EQ(s.check(n, pbx, t0 + seconds{300}).status, nonce_status::valid);
    EXPECT_EQ(s.check(n, pbx, t0 + seconds{301}).status, nonce_status::stale);
    EXPECT_EQ(s.check(n, pbx, t0 + seconds{86400 * 365}).status, nonce_status::stale);
}

TEST(nonce, custom_ttl) {
    nonce_options o = fixed();
    o.ttl = seconds{30};
    signed_nonce_service s(o);
    const std::string n = s.issue(pbx, t0);
    EXPECT_EQ(s.check(n, pbx, t0 + seconds{30}).status, nonce_status::valid);
    EXPECT_EQ(s.check(n, pbx, t0 + seconds{31}).status, nonce_status::stale);
}

TEST(nonce, future_issue_time_beyond_skew_is_stale) {
    signed_nonce_service s(fixed());  // default skew 5 s
    const std::string n = s.issue(pbx, t0);
    EXPECT_EQ(s.check(n, pbx, t0 - seconds{5}).status, nonce_status::valid);
    EXPECT_EQ(s.check(n, pbx, t0 - seconds{6}).status, nonce_status::stale);
    nonce_options strict = fixed();
    strict.max_future_skew = seconds{0};
    signed_nonce_service z(strict);
    const std::string m = z.issue(pbx, t0);
    EXPECT_EQ(z.check(m, pbx, t0).status, nonce_status::valid);
    EXPECT_EQ(z.check(m, pbx, t0 - seconds{1}).status, nonce_status::stale);
}

TEST(nonce, sub_second_clock_differences_do_not_matter) {
    signed_nonce_service s(fixed());
    const std::string n = s.issue(pbx, t0 + std::chrono::milliseconds{999});
    EXPECT_EQ(s.check(n, pbx, t0).status, nonce_status::valid);
}

TEST(nonce, times_before_the_epoch_work) {
    signed_nonce_service s(fixed());
    const time_point old{seconds{-1000}};
    const std::string n = s.issue(pbx, old);
    EXPECT_EQ(s.check(n, pbx, old + seconds{10}).status, nonce_status::valid);
    EXPECT_EQ(s.check(n, pbx, old + seconds{400}).status, nonce_status::stale);
}

TEST(nonce, any_single_character_change_is_invalid) {
    signed_nonce_service s(fixed());
    const std::string n = s.issue(pbx, t0);
    for (std::size_t i = 0; i < n.size(); ++i) {
        std::string t = n;
        t[i] = t[i] == 'A' ? 'B' : 'A';
        EXPECT_EQ(s.check(t, pbx, t0).status, nonce_status::invalid) << "position " << i;
    }
}

TEST(nonce, changing_the_time_field_without_the_key_is_invalid) {
    // A client trying to refresh an expired nonce by rewriting its time bytes.
    signed_nonce_service s(fixed());
    const std::string n = s.issue(pbx, t0);
    std::string t = n;
    t[9] = t[9] == 'z' ? 'y' : 'z';  // inside the 8 time bytes (chars 0..10)
    EXPECT_EQ(s.check(t, pbx, t0 + seconds{1000}).status, nonce_status::invalid);
}

TEST(nonce, other_secret_is_invalid) {
    signed_nonce_service a(fixed("secret-one-secret-one-secret-one"));
    signed_nonce_service b(fixed("secret-two-secret-two-secret-two"));
    EXPECT_EQ(b.check(a.issue(pbx, t0), pbx, t0).status, nonce_status::invalid);
    EXPECT_EQ(a.check(a.issue(pbx, t0), pbx, t0).status, nonce_status::valid);
}

TEST(nonce, random_default_secrets_differ_between_instances) {
    signed_nonce_service a;
    signed_nonce_service b;
    const std::string n = a.issue(pbx, t0);
    EXPECT_EQ(a.check(n, pbx, t0).status, nonce_status::valid);
    EXPECT_EQ(b.check(n, pbx, t0).status, nonce_status::invalid);
}

TEST(nonce, garbage_is_invalid) {
    signed_nonce_service s(fixed());
    const std::string n = s.issue(pbx, t0);
    EXPECT_EQ(s.check("", pbx, t0).status, nonce_status::invalid);
    EXPECT_EQ(s.check("abc", pbx, t0).status, nonce_status::invalid);
    EXPECT_EQ(s.check(std::string(64, '!'), pbx, t0).status, nonce_status::invalid);
    EXPECT_EQ(s.check(std::string(64, 'A'), pbx, t0).status, nonce_status::invalid);
    EXPECT_EQ(s.check(std::string(1 << 20, 'A'), pbx, t0).status, nonce_status::invalid);
    EXPECT_EQ(s.check(n + "=", pbx, t0).status, nonce_status::invalid);
    EXPECT_EQ(s.check(n.substr(0, 63), pbx, t0).status, nonce_status::invalid);
    EXPECT_EQ(s.check(n + n, pbx, t0).status, nonce_status::invalid);
    std::string with_nul = n;
    with_nul[10] = '\0';
    EXPECT_EQ(s.check(with_nul, pbx, t0).status, nonce_status::invalid);
    // Standard base64 characters instead of the URL-safe ones.
    std::string std_b64 = n;
    for (char& c : std_b64) {
        if (c == '-') c = '+';
        if (c == '_') c = '/';
    }
    if (std_b64 != n) {
        EXPECT_EQ(s.check(std_b64, pbx, t0).status, nonce_status::invalid);
    }
}

TEST(nonce, bad_options_throw) {
    nonce_options zero = fixed();
    zero.ttl = seconds{0};
    EXPECT_THROW(signed_nonce_service{zero}, std::invalid_argument);
    nonce_options negative = fixed();
    negative.max_future_skew = seconds{-1};
    EXPECT_THROW(signed_nonce_service{negative}, std::invalid_argument);
    nonce_options untracked = fixed();
    untracked.tracked_nonces = 0;
    EXPECT_THROW(signed_nonce_service{untracked}, std::invalid_argument);
}

// --- binding to the source address -------------------------------------------------------

TEST(nonce, is_bound_to_the_address_it_was_issued_to) {
    signed_nonce_service s(fixed());
    const auto other = boost::asio::ip::make_address("192.0.2.11");
    const std::string n = s.issue(pbx, t0);
    EXPECT_EQ(s.check(n, pbx, t0).status, nonce_status::valid);
    const nonce_check elsewhere = s.check(n, other, t0);
    EXPECT_EQ(elsewhere.status, nonce_status::other_source);
    ASSERT_TRUE(elsewhere.issued_to.has_value());
    EXPECT_EQ(*elsewhere.issued_to, pbx);
}

TEST(nonce, ipv6_sources_are_bound_too) {
    signed_nonce_service s(fixed());
    const auto a = boost::asio::ip::make_address("2001:db8::1");
    const auto b = boost::asio::ip::make_address("2001:db8::2");
    const std::string n = s.issue(a, t0);
    EXPECT_EQ(s.check(n, a, t0).status, nonce_status::valid);
    EXPECT_EQ(s.check(n, b, t0).status, nonce_status::other_source);
    // Same last 4 bytes as an IPv4 address must not collide with it.
    EXPECT_NE(s.check(s.issue(boost::asio::ip::make_address("::0.0.0.1"), t0),
                      boost::asio::ip::make_address("0.0.0.1"), t0)
                  .status,
              nonce_status::valid);
}

TEST(nonce, ipv4_mapped_ipv6_is_the_same_source_as_ipv4) {
    // A dual-stack socket reports ::ffff:a.b.c.d for the PBX that an IPv4 socket sees as a.b.c.d.
    signed_nonce_service s(fixed());
    const std::string n = s.issue(pbx, t0);
    EXPECT_EQ(s.check(n, boost::asio::ip::make_address("::ffff:192.0.2.10"), t0).status,
              nonce_status::valid);
}

TEST(nonce, from_another_source_after_its_slot_is_gone_is_invalid) {
    nonce_options o = fixed();
    o.tracked_nonces = 2;
    signed_nonce_service s(o);
    const std::string n = s.issue(pbx, t0);
    s.issue(pbx, t0);
    s.issue(pbx, t0);  // n's slot reused
    EXPECT_EQ(s.check(n, boost::asio::ip::make_address("192.0.2.11"), t0).status,
              nonce_status::invalid);
    EXPECT_EQ(s.check(n, pbx, t0).status, nonce_status::untracked);
}

// --- nonce counts -----------------------------------------------------------------------

TEST(nonce, nc_must_increase) {
    signed_nonce_service s(fixed());
    const std::string n = s.issue(pbx, t0);
    const nonce_check c = s.check(n, pbx, t0);
    EXPECT_EQ(s.use(c, 1), nonce_use::accepted);
    EXPECT_EQ(s.use(c, 1), nonce_use::replayed);
    EXPECT_EQ(s.use(c, 2), nonce_use::accepted);
    EXPECT_EQ(s.use(c, 5), nonce_use::accepted);  // gaps are fine: other requests may be lost
    EXPECT_EQ(s.use(c, 3), nonce_use::replayed);
    EXPECT_EQ(s.use(c, 5), nonce_use::replayed);
    EXPECT_EQ(s.use(c, 6), nonce_use::accepted);
}

TEST(nonce, counts_are_per_nonce) {
    signed_nonce_service s(fixed());
    const nonce_check a = s.check(s.issue(pbx, t0), pbx, t0);
    const nonce_check b = s.check(s.issue(pbx, t0), pbx, t0);
    EXPECT_EQ(s.use(a, 1), nonce_use::accepted);
    EXPECT_EQ(s.use(b, 1), nonce_use::accepted);
    EXPECT_EQ(s.use(a, 1), nonce_use::replayed);
}

TEST(nonce, without_qop_a_nonce_is_single_use) {
    signed_nonce_service s(fixed());
    const nonce_check c = s.check(s.issue(pbx, t0), pbx, t0);
    EXPECT_EQ(s.use(c, std::nullopt), nonce_use::accepted);
    EXPECT_EQ(s.use(c, std::nullopt), nonce_use::replayed);
    EXPECT_EQ(s.use(c, 0xfffffffe), nonce_use::replayed);
    const nonce_check d = s.check(s.issue(pbx, t0), pbx, t0);
    EXPECT_EQ(s.use(d, 1), nonce_use::accepted);
    EXPECT_EQ(s.use(d, std::nullopt), nonce_use::replayed);
}

TEST(nonce, oldest_nonces_are_evicted_from_a_bounded_table) {
    nonce_options o = fixed();
    o.tracked_nonces = 4;
    signed_nonce_service s(o);
    std::vector<std::string> issued;
    for (int i = 0; i < 6; ++i) issued.push_back(s.issue(pbx, t0));
    // The last 4 are tracked, the first 2 lost their slots but are still genuine and fresh.
    EXPECT_EQ(s.check(issued[0], pbx, t0).status, nonce_status::untracked);
    EXPECT_EQ(s.check(issued[1], pbx, t0).status, nonce_status::untracked);
    for (std::size_t i = 2; i < issued.size(); ++i)
        EXPECT_EQ(s.check(issued[i], pbx, t0).status, nonce_status::valid) << i;
    // A check taken before the eviction cannot record a use after it.
    const nonce_check before = s.check(issued[2], pbx, t0);
    for (int i = 0; i < 4; ++i) s.issue(pbx, t0);
    EXPECT_EQ(s.use(before, 1), nonce_use::untracked);
}

TEST(nonce, expiry_wins_over_tracking) {
    signed_nonce_service s(fixed());
    const std::string n = s.issue(pbx, t0);
    EXPECT_EQ(s.check(n, pbx, t0 + seconds{301}).status, nonce_status::stale);
}

TEST(nonce, nonces_from_an_earlier_process_with_the_same_secret_are_untracked) {
    signed_nonce_service before(fixed());
    signed_nonce_service after(fixed());
    const std::string n = before.issue(pbx, t0);
    // Genuine (same secret), but its sequence is not one `after` issued: a silent retry.
    EXPECT_EQ(after.check(n, pbx, t0).status, nonce_status::untracked);
    for (int i = 0; i < 1000; ++i) after.issue(pbx, t0);
    EXPECT_EQ(after.check(n, pbx, t0).status, nonce_status::untracked);
}

TEST(nonce, status_names) {
    EXPECT_EQ(to_string(nonce_status::valid), "valid");
    EXPECT_EQ(to_string(nonce_status::stale), "stale");
    EXPECT_EQ(to_string(nonce_status::invalid), "invalid");
    EXPECT_EQ(to_string(nonce_status::other_source), "other_source");
    EXPECT_EQ(to_string(nonce_status::untracked), "untracked");
}

}  // namespace
}  // namespace b2b::auth
