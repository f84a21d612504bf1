// Tests for contact_user: the unguessable, stable Contact user of a trunk's registration.
#include "registration/contact_token.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace b2b::registration {
namespace {

TEST(contact_user, is_32_lowercase_hex_digits) {
    const std::string t = contact_user("carrier", "trunkuser", "trunkpass");
    ASSERT_EQ(t.size(), 32U);
    const auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
    EXPECT_TRUE(std::all_of(t.begin(), t.end(), hex));
}

TEST(contact_user, is_the_same_on_every_call_and_across_restarts) {
    EXPECT_EQ(contact_user("carrier", "trunkuser", "trunkpass"), contact_user("carrier", "trunkuser", "trunkpass"));
    // HMAC-SHA256(key "trunkuser:trunkpass", "carrier"), first 16 bytes: a fixed value, so a
    // change of the derivation (which would orphan every binding made before) shows here.
    EXPECT_EQ(contact_user("carrier", "trunkuser", "trunkpass"), "56528831f77abb86939226e5ae407b93");
}

TEST(contact_user, differs_by_trunk_name_username_and_password) {
    const std::string base = contact_user("carrier", "trunkuser", "trunkpass");
    EXPECT_NE(contact_user("carrier2", "trunkuser", "trunkpass"), base);
    EXPECT_NE(contact_user("carrier", "trunkuser2", "trunkpass"), base);
    EXPECT_NE(contact_user("carrier", "trunkuser", "trunkpass2"), base);
    // The separator keeps "a:bc" and "ab:c" apart.
    EXPECT_NE(contact_user("carrier", "a", "bc"), contact_user("carrier", "ab", "c"));
}

}  // namespace
}  // namespace b2b::registration
