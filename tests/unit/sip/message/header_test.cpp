// Header-name lookup: long and compact forms, any case, and canonical names.
#include "sip/message/header.hpp"

#include <gtest/gtest.h>

#include <string>

namespace b2b::sip {
namespace {

TEST(HeaderId, EveryCanonicalNameRoundTrips) {
    for (int i = 1; i <= static_cast<int>(header_id::warning); ++i) {
        const auto id = static_cast<header_id>(i);
        const std::string_view name = canonical_name(id);
        ASSERT_FALSE(name.empty()) << i;
        EXPECT_EQ(header_id_from_name(name), id) << name;
        std::string upper(name);
        std::string lower(name);
        for (auto& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
        for (auto& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
        EXPECT_EQ(header_id_from_name(upper), id) << upper;
        EXPECT_EQ(header_id_from_name(lower), id) << lower;
    }
    EXPECT_EQ(canonical_name(header_id::other), "");
}

TEST(HeaderId, CompactForms) {
    const std::pair<const char*, header_id> forms[] = {
        {"i", header_id::call_id},
        {"m", header_id::contact},
        {"e", header_id::content_encoding},
        {"l", header_id::content_length},
        {"c", header_id::content_type},
        {"o", header_id::event},
        {"f", header_id::from},
        {"s", header_id::subject},
        {"k", header_id::supported},
        {"t", header_id::to},
        {"v", header_id::via},
        {"V", header_id::via},
        {"I", header_id::call_id},
        {"L", header_id::content_length},
        {"M", header_id::contact},
    };
    for (const auto& [name, id] : forms) {
        EXPECT_EQ(header_id_from_name(name), id) << name;
    }
}

TEST(HeaderId, UnknownNames) {
    for (const char* n :
         {"", "x", "a", "X-Foo", "C%6Fntact", "Vias", "Vi", "Contacts", "Call_ID",
          "Content-Lengthx", "Tox", "From ", "Proxy-Authorizatio", "WWW-Authenticatf"}) {
        EXPECT_EQ(header_id_from_name(n), header_id::other) << n;
    }
}

}  // namespace
}  // namespace b2b::sip
