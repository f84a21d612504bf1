// User credentials and the in-memory credential store.
#include "auth/credential_store.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace b2b::auth {
namespace {

user_credentials with_password(std::string name, std::string password) {
    user_credentials u;
    u.username = std::move(name);
    u.password = std::move(password);
    return u;
}

TEST(credential_store, add_find_replace_remove) {
    in_memory_credential_store store;
    EXPECT_EQ(store.size(), 0u);
    EXPECT_FALSE(store.find("alice"));

    store.set_user(with_password("alice", "one"));
    ASSERT_TRUE(store.find("alice"));
    EXPECT_EQ(store.find("alice")->password, "one");
    EXPECT_EQ(store.size(), 1u);

    store.set_user(with_password("alice", "two"));
    EXPECT_EQ(store.find("alice")->password, "two");
    EXPECT_EQ(store.size(), 1u);

    EXPECT_TRUE(store.remove_user("alice"));
    EXPECT_FALSE(store.remove_user("alice"));
    EXPECT_FALSE(store.find("alice"));
    EXPECT_EQ(store.size(), 0u);
}

TEST(credential_store, lookup_is_exact_and_case_sensitive) {
    in_memory_credential_store store;
    store.set_user(with_password("Alice", "pw"));
    EXPECT_TRUE(store.find("Alice"));
    EXPECT_FALSE(store.find("alice"));
    EXPECT_FALSE(store.find("Alice "));
    EXPECT_FALSE(store.find(""));
}

TEST(credential_store, find_returns_a_copy_unaffected_by_later_changes) {
    in_memory_credential_store store;
    store.set_user(with_password("bob", "old"));
    const auto snapshot = store.find("bob");
    store.set_user(with_password("bob", "new"));
    store.remove_user("bob");
    ASSERT_TRUE(snapshot);
    EXPECT_EQ(snapshot->password, "old");
}

TEST(credential_store, ha1_only_users_are_normalised_to_lower_case) {
    in_memory_credential_store store;
    user_credentials u;
    u.username = "carol";
    const std::string ha1 = compute_ha1(algorithm::md5, "carol", "pbx.local", "pw");
    std::string upper = ha1;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    u.ha1[algorithm::md5] = upper;
    store.set_user(u);
    const auto found = store.find("carol");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->ha1.at(algorithm::md5), ha1);
    EXPECT_TRUE(found->can_verify(algorithm::md5));
    EXPECT_FALSE(found->can_verify(algorithm::sha256));
    EXPECT_EQ(found->ha1_for(algorithm::md5, "pbx.local"), ha1);
    EXPECT_FALSE(found->ha1_for(algorithm::sha256, "pbx.local"));
}

TEST(credential_store, password_users_compute_ha1_for_any_supported_algorithm) {
    const user_credentials u = with_password("dave", "pw");
    for (auto a : {algorithm::md5, algorithm::sha256, algorithm::sha512_256}) {
        EXPECT_TRUE(u.can_verify(a));
        EXPECT_EQ(u.ha1_for(a, "realm"), compute_ha1(a, "dave", "realm", "pw"));
    }
    EXPECT_FALSE(u.can_verify(algorithm::md5_sess));
    EXPECT_FALSE(u.ha1_for(algorithm::sha256_sess, "realm"));
}

TEST(credential_store, stored_ha1_wins_over_password) {
    user_credentials u = with_password("erin", "pw");
    const std::string other = compute_ha1(algorithm::sha256, "erin", "realm", "different");
    u.ha1[algorithm::sha256] = other;
    EXPECT_EQ(u.ha1_for(algorithm::sha256, "realm"), other);
    EXPECT_EQ(u.ha1_for(algorithm::md5, "realm"),
              compute_ha1(algorithm::md5, "erin", "realm", "pw"));
}

TEST(credential_store, invalid_users_are_refused_and_leave_the_store_unchanged) {
    in_memory_credential_store store;
    store.set_user(with_password("keep", "pw"));

    EXPECT_THROW(store.set_user(with_password("", "pw")), std::invalid_argument);

    user_credentials nothing;
    nothing.username = "keep";
    EXPECT_THROW(store.set_user(nothing), std::invalid_argument);

    user_credentials short_ha1;
    short_ha1.username = "keep";
    short_ha1.ha1[algorithm::md5] = "abc";
    EXPECT_THROW(store.set_user(short_ha1), std::invalid_argument);

    user_credentials wrong_length;
    wrong_length.username = "keep";
    wrong_length.ha1[algorithm::sha256] = std::string(32, 'a');  // MD5-sized
    EXPECT_THROW(store.set_user(wrong_length), std::invalid_argument);

    user_credentials not_hex;
    not_hex.username = "keep";
    not_hex.ha1[algorithm::md5] = std::string(31, 'a') + "g";
    EXPECT_THROW(store.set_user(not_hex), std::invalid_argument);

    user_credentials sess;
    sess.username = "keep";
    sess.ha1[algorithm::md5_sess] = std::string(32, 'a');
    EXPECT_THROW(store.set_user(sess), std::invalid_argument);

    ASSERT_TRUE(store.find("keep"));
    EXPECT_EQ(store.find("keep")->password, "pw");
    EXPECT_EQ(store.size(), 1u);
}

TEST(credential_store, usable_through_the_interface) {
    in_memory_credential_store store;
    store.set_user(with_password("frank", "pw"));
    const credential_store& iface = store;
    EXPECT_TRUE(iface.find("frank"));
    EXPECT_FALSE(iface.find("nobody"));
}

}  // namespace
}  // namespace b2b::auth
