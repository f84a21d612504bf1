// Signed stateless nonces: round trip, expiry, skew, tampering, foreign secrets, garbage.
#include "auth/nonce.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

namespace b2b::auth {
namespace {

using std::chrono::seconds;
using time_point = std::chrono::system_clock::time_point;

const time_point t0{seconds{1'700'000'000}};

nonce_options fixed(std::string secret = "0123456789abcdef0123456789abcdef") {
    nonce_options o;
    o.secret = std::move(secret);
    return o;
}

constexpr std::string_view b64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

TEST(nonce, round_trip_is_valid) {
    signed_nonce_service s(fixed());
    const std::string n = s.issue(t0);
    EXPECT_EQ(n.size(), signed_nonce_service::encoded_length);
    for (char c : n) EXPECT_NE(b64url_alphabet.find(c), std::string_view::npos) << c;
    EXPECT_EQ(s.check(n, t0), nonce_status::valid);
}

TEST(nonce, each_issue_is_unique) {
    signed_nonce_service s(fixed());
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) seen.insert(s.issue(t0));
    EXPECT_EQ(seen.size(), 200u);
}

TEST(nonce, expires_after_ttl) {
    signed_nonce_service s(fixed());
    const std::string n = s.issue(t0);
    EXPECT_EQ(s.check(n, t0 + seconds{299}), nonce_status::valid);
    EXPECT_EQ(s.check(n, t0 + seconds{300}), nonce_status::valid);
    EXPECT_EQ(s.check(n, t0 + seconds{301}), nonce_status::stale);
    EXPECT_EQ(s.check(n, t0 + seconds{86400 * 365}), nonce_status::stale);
}

TEST(nonce, custom_ttl) {
    nonce_options o = fixed();
    o.ttl = seconds{30};
    signed_nonce_service s(o);
    const std::string n = s.issue(t0);
    EXPECT_EQ(s.check(n, t0 + seconds{30}), nonce_status::valid);
    EXPECT_EQ(s.check(n, t0 + seconds{31}), nonce_status::stale);
}

TEST(nonce, future_issue_time_beyond_skew_is_stale) {
    signed_nonce_service s(fixed());  // default skew 5 s
    const std::string n = s.issue(t0);
    EXPECT_EQ(s.check(n, t0 - seconds{5}), nonce_status::valid);
    EXPECT_EQ(s.check(n, t0 - seconds{6}), nonce_status::stale);
    nonce_options strict = fixed();
    strict.max_future_skew = seconds{0};
    signed_nonce_service z(strict);
    const std::string m = z.issue(t0);
    EXPECT_EQ(z.check(m, t0), nonce_status::valid);
    EXPECT_EQ(z.check(m, t0 - seconds{1}), nonce_status::stale);
}

TEST(nonce, sub_second_clock_differences_do_not_matter) {
    signed_nonce_service s(fixed());
    const std::string n = s.issue(t0 + std::chrono::milliseconds{999});
    EXPECT_EQ(s.check(n, t0), nonce_status::valid);
}

TEST(nonce, times_before_the_epoch_work) {
    signed_nonce_service s(fixed());
    const time_point old{seconds{-1000}};
    const std::string n = s.issue(old);
    EXPECT_EQ(s.check(n, old + seconds{10}), nonce_status::valid);
    EXPECT_EQ(s.check(n, old + seconds{400}), nonce_status::stale);
}

TEST(nonce, any_single_character_change_is_invalid) {
    signed_nonce_service s(fixed());
    const std::string n = s.issue(t0);
    for (std::size_t i = 0; i < n.size(); ++i) {
        std::string t = n;
        t[i] = t[i] == 'A' ? 'B' : 'A';
        EXPECT_EQ(s.check(t, t0), nonce_status::invalid) << "position " << i;
    }
}

TEST(nonce, changing_the_time_field_without_the_key_is_invalid) {
    // A client trying to refresh an expired nonce by rewriting its time bytes.
    signed_nonce_service s(fixed());
    const std::string n = s.issue(t0);
    std::string t = n;
    t[9] = t[9] == 'z' ? 'y' : 'z';  // inside the 8 time bytes (chars 0..10)
    EXPECT_EQ(s.check(t, t0 + seconds{1000}), nonce_status::invalid);
}

TEST(nonce, other_secret_is_invalid) {
    signed_nonce_service a(fixed("secret-one-secret-one-secret-one"));
    signed_nonce_service b(fixed("secret-two-secret-two-secret-two"));
    EXPECT_EQ(b.check(a.issue(t0), t0), nonce_status::invalid);
    EXPECT_EQ(a.check(a.issue(t0), t0), nonce_status::valid);
}

TEST(nonce, random_default_secrets_differ_between_instances) {
    signed_nonce_service a;
    signed_nonce_service b;
    const std::string n = a.issue(t0);
    EXPECT_EQ(a.check(n, t0), nonce_status::valid);
    EXPECT_EQ(b.check(n, t0), nonce_status::invalid);
}

TEST(nonce, garbage_is_invalid) {
    signed_nonce_service s(fixed());
    const std::string n = s.issue(t0);
    EXPECT_EQ(s.check("", t0), nonce_status::invalid);
    EXPECT_EQ(s.check("abc", t0), nonce_status::invalid);
    EXPECT_EQ(s.check(std::string(64, '!'), t0), nonce_status::invalid);
    EXPECT_EQ(s.check(std::string(64, 'A'), t0), nonce_status::invalid);
    EXPECT_EQ(s.check(std::string(1 << 20, 'A'), t0), nonce_status::invalid);
    EXPECT_EQ(s.check(n + "=", t0), nonce_status::invalid);
    EXPECT_EQ(s.check(n.substr(0, 63), t0), nonce_status::invalid);
    EXPECT_EQ(s.check(n + n, t0), nonce_status::invalid);
    std::string with_nul = n;
    with_nul[10] = '\0';
    EXPECT_EQ(s.check(with_nul, t0), nonce_status::invalid);
    // Standard base64 characters instead of the URL-safe ones.
    std::string std_b64 = n;
    for (char& c : std_b64) {
        if (c == '-') c = '+';
        if (c == '_') c = '/';
    }
    if (std_b64 != n) {
        EXPECT_EQ(s.check(std_b64, t0), nonce_status::invalid);
    }
}

TEST(nonce, bad_options_throw) {
    nonce_options zero = fixed();
    zero.ttl = seconds{0};
    EXPECT_THROW(signed_nonce_service{zero}, std::invalid_argument);
    nonce_options negative = fixed();
    negative.max_future_skew = seconds{-1};
    EXPECT_THROW(signed_nonce_service{negative}, std::invalid_argument);
}

TEST(nonce, status_names) {
    EXPECT_EQ(to_string(nonce_status::valid), "valid");
    EXPECT_EQ(to_string(nonce_status::stale), "stale");
    EXPECT_EQ(to_string(nonce_status::invalid), "invalid");
}

}  // namespace
}  // namespace b2b::auth
