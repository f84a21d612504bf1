// parse_name_addr for headers the message keeps as text (Refer-To, P-Asserted-Identity, ...).
#include "sip/message/values.hpp"

#include <gtest/gtest.h>

namespace b2b::sip {
namespace {

TEST(ParseNameAddr, Forms) {
    auto a = parse_name_addr(" \"Alice\" <sip:alice@atlanta.com;transport=tcp>;tag=1 ");
    ASSERT_TRUE(a) << a.error().what();
    EXPECT_EQ(a->display_name_text(), "Alice");
    EXPECT_EQ(a->uri.transport(), "tcp");
    EXPECT_EQ(a->tag, "1");
    EXPECT_TRUE(a->bracketed);
    EXPECT_EQ(a->text, "\"Alice\" <sip:alice@atlanta.com;transport=tcp>;tag=1");

    auto b = parse_name_addr("tel:+15551234");
    ASSERT_TRUE(b);
    EXPECT_FALSE(b->uri.is_sip_or_sips());
    EXPECT_FALSE(b->bracketed);

    auto c = parse_name_addr("<sip:b@h?Replaces=abc%40h%3Bto-tag%3D1>");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->uri.headers, "Replaces=abc%40h%3Bto-tag%3D1");
}

TEST(ParseNameAddr, Errors) {
    for (const char* v : {"", "<sip:b@h", "Bell, A <sip:b@h>", "sip:b@h?x=y", "<sip:b@h>;",
                          "\"x <sip:b@h>", "<sip:b@h> x", "<sip:b@h>, <sip:c@h>"}) {
        auto r = parse_name_addr(v);
        EXPECT_FALSE(r) << v;
        if (!r) {
            EXPECT_FALSE(r.error().detail.empty()) << v;
        }
    }
}

}  // namespace
}  // namespace b2b::sip
