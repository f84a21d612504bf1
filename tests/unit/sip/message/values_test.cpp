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

TEST(ParseRouteList, PathValuesInOrderEachBracketed) {
    // RFC 3327 §4: a proxy adds its Path entry; Kamailio's add_path_received() writes a
    // received parameter naming where the REGISTER came from.
    auto p = parse_route_list(" <sip:10.0.0.10:5060;lr;received=sip:203.0.113.9:41234>, <sip:edge.example;lr> ");
    ASSERT_TRUE(p) << p.error().what();
    ASSERT_EQ(p->size(), 2u);
    EXPECT_EQ((*p)[0].text, "<sip:10.0.0.10:5060;lr;received=sip:203.0.113.9:41234>");
    EXPECT_EQ((*p)[0].uri.host, "10.0.0.10");
    EXPECT_EQ((*p)[1].text, "<sip:edge.example;lr>");
    for (const char* v : {"", "sip:a;lr", "<sip:a;lr>,", "<sip:a;lr>,,<sip:b>", "<sip:a", "<sip:a> x"}) {
        EXPECT_FALSE(parse_route_list(v)) << v;
    }
}

}  // namespace
}  // namespace b2b::sip
