// The failure vocabulary: names, hints, enumeration, error category.
#include "auth/failure.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

namespace b2b::auth {
namespace {

bool is_snake_case(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(),
                                     [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

TEST(failure, names_are_the_documented_snake_case_strings) {
    EXPECT_EQ(to_string(failure::unknown_user), "unknown_user");
    EXPECT_EQ(to_string(failure::wrong_password), "wrong_password");
    EXPECT_EQ(to_string(failure::stale_nonce), "stale_nonce");
    EXPECT_EQ(to_string(failure::invalid_nonce), "invalid_nonce");
    EXPECT_EQ(to_string(failure::realm_mismatch), "realm_mismatch");
    EXPECT_EQ(to_string(failure::uri_mismatch), "uri_mismatch");
    EXPECT_EQ(to_string(failure::unsupported_algorithm), "unsupported_algorithm");
    EXPECT_EQ(to_string(failure::malformed_credentials), "malformed_credentials");
    EXPECT_EQ(to_string(failure::rejected), "rejected");
    EXPECT_EQ(to_string(failure::no_credentials), "no_credentials");
    EXPECT_EQ(to_string(failure::challenge_loop), "challenge_loop");
    EXPECT_EQ(to_string(failure::replayed_nonce), "replayed_nonce");
    EXPECT_EQ(to_string(failure::challenge_unanswered), "challenge_unanswered");
    EXPECT_EQ(to_string(failure::forbidden), "forbidden");
    EXPECT_EQ(to_string(failure::source_not_allowed), "source_not_allowed");
    EXPECT_EQ(to_string(failure::qop_missing), "qop_missing");
}

TEST(failure, values_are_appended_never_renumbered) {
    // Stored in metrics and logs by number elsewhere: a change here breaks dashboards.
    EXPECT_EQ(static_cast<int>(failure::unknown_user), 1);
    EXPECT_EQ(static_cast<int>(failure::malformed_credentials), 8);
    EXPECT_EQ(static_cast<int>(failure::challenge_loop), 11);
    EXPECT_EQ(static_cast<int>(failure::replayed_nonce), 12);
    EXPECT_EQ(static_cast<int>(failure::challenge_unanswered), 13);
    EXPECT_EQ(static_cast<int>(failure::forbidden), 14);
    EXPECT_EQ(static_cast<int>(failure::source_not_allowed), 15);
    EXPECT_EQ(static_cast<int>(failure::qop_missing), 16);
    EXPECT_EQ(failure_count, 17u);
    for (failure f : all_failures()) EXPECT_LT(static_cast<std::size_t>(f), failure_count);
}

TEST(failure, enumeration_covers_every_value_once) {
    const auto all = all_failures();
    EXPECT_EQ(all.size(), 16u);
    std::set<std::string_view> names;
    for (failure f : all) {
        EXPECT_TRUE(is_snake_case(to_string(f))) << to_string(f);
        names.insert(to_string(f));
    }
    EXPECT_EQ(names.size(), all.size());
}

TEST(failure, downstream_and_upstream_sets_are_subsets) {
    const auto all = all_failures();
    auto in_all = [&](failure f) { return std::find(all.begin(), all.end(), f) != all.end(); };
    EXPECT_EQ(downstream_failures().size(), 12u);
    EXPECT_EQ(upstream_failures().size(), 5u);
    for (failure f : downstream_failures()) EXPECT_TRUE(in_all(f));
    for (failure f : upstream_failures()) EXPECT_TRUE(in_all(f));
    const auto up = upstream_failures();
    EXPECT_NE(std::find(up.begin(), up.end(), failure::unsupported_algorithm), up.end());
    EXPECT_NE(std::find(up.begin(), up.end(), failure::challenge_loop), up.end());
    const auto down = downstream_failures();
    EXPECT_EQ(std::find(down.begin(), down.end(), failure::rejected), down.end());
    EXPECT_NE(std::find(down.begin(), down.end(), failure::replayed_nonce), down.end());
    EXPECT_NE(std::find(down.begin(), down.end(), failure::challenge_unanswered), down.end());
    EXPECT_EQ(std::find(down.begin(), down.end(), failure::forbidden), down.end());
    EXPECT_NE(std::find(up.begin(), up.end(), failure::forbidden), up.end());
    EXPECT_EQ(std::find(up.begin(), up.end(), failure::replayed_nonce), up.end());
    EXPECT_NE(std::find(down.begin(), down.end(), failure::source_not_allowed), down.end());
    EXPECT_EQ(std::find(up.begin(), up.end(), failure::source_not_allowed), up.end());
}

TEST(failure, every_value_has_a_one_line_hint) {
    std::set<std::string_view> hints;
    for (failure f : all_failures()) {
        const auto h = hint(f);
        EXPECT_GT(h.size(), 20u) << to_string(f);
        EXPECT_EQ(h.find('\n'), std::string_view::npos) << to_string(f);
        EXPECT_EQ(h.back(), '.') << to_string(f);
        hints.insert(h);
    }
    EXPECT_EQ(hints.size(), all_failures().size());
    EXPECT_NE(hint(failure::wrong_password).find("password"), std::string_view::npos);
}

TEST(failure, error_code_uses_the_auth_category) {
    const boost::system::error_code ec = failure::wrong_password;
    EXPECT_STREQ(ec.category().name(), "b2b.auth");
    EXPECT_EQ(ec.message(), std::string(hint(failure::wrong_password)));
    EXPECT_TRUE(ec.failed());
    EXPECT_EQ(ec, make_error_code(failure::wrong_password));
    EXPECT_NE(ec, make_error_code(failure::unknown_user));
    EXPECT_EQ(make_error_code(failure::forbidden).message(), std::string(hint(failure::forbidden)));
    EXPECT_EQ(boost::system::error_code(static_cast<int>(failure_count), auth_category()).message(),
              "unknown auth failure");
}

TEST(failure, auth_error_what_joins_name_and_detail) {
    EXPECT_EQ((auth_error{failure::rejected, "403 after credentials"}).what(),
              "rejected: 403 after credentials");
    EXPECT_EQ((auth_error{failure::challenge_loop, ""}).what(), "challenge_loop");
}

TEST(failure, value_of_failed_result_throws) {
    auth_result<int> r = auth_error{failure::no_credentials, "none"};
    EXPECT_FALSE(r);
    EXPECT_THROW((void)r.value(), std::exception);
}

}  // namespace
}  // namespace b2b::auth
