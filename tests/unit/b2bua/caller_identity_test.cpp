// The caller's identity on the other leg: From user, P-Asserted-Identity, Privacy, Diversion.
#include "b2bua/caller_identity.hpp"

#include "sip/message/message.hpp"

#include <gtest/gtest.h>

#include <string>

namespace b2b::b2bua {
namespace {

sip::message invite_with(const std::string& headers) {
    const std::string text = "INVITE sip:0301234@127.0.0.1:5070 SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\n"
                             "From: \"Reception\" <sip:200@pbx.lan>;tag=a\r\n"
                             "To: <sip:0301234@127.0.0.1:5070>\r\n"
                             "Call-ID: c1@pbx.lan\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n" +
                             headers + "Content-Length: 0\r\n\r\n";
    auto m = sip::parse_message(text);
    EXPECT_TRUE(m.has_value());
    return std::move(*m);
}

using headers = std::vector<std::pair<std::string, std::string>>;

TEST(caller_identity, passes_user_parts_with_our_host_and_nothing_of_the_pbx_network) {
    routing::trunk t;
    const auto m = invite_with(
        "P-Asserted-Identity: \"Doe, John\" <sip:+4930555@pbx.lan;user=phone>, <tel:+4930555>\r\n"
        "Privacy: id\r\n"
        "Diversion: <sip:+4930111@10.0.0.1>;reason=unconditional;counter=1\r\n");
    const auto id = make_caller_identity(m, t, "200", "203.0.113.9:5060");
    EXPECT_EQ(id.from_user, "200");
    EXPECT_EQ(id.headers, (headers{{"P-Asserted-Identity", "\"Doe, John\" <sip:+4930555@203.0.113.9:5060>"},
                                   {"P-Asserted-Identity", "<tel:+4930555>"},
                                   {"Privacy", "id"},
                                   {"Diversion", "<sip:+4930111@203.0.113.9:5060>;reason=unconditional;counter=1"}}));
}

TEST(caller_identity, set_and_strip_per_trunk) {
    routing::trunk t;
    t.from_user = "+4930999000";
    t.asserted_identity = routing::identity_policy::set;
    t.privacy = routing::identity_policy::strip;
    const auto m = invite_with("P-Asserted-Identity: <sip:200@pbx.lan>\r\nPrivacy: id\r\n");
    auto id = make_caller_identity(m, t, "200", "sbc.example");
    EXPECT_EQ(id.from_user, "+4930999000");
    EXPECT_EQ(id.headers, (headers{{"P-Asserted-Identity", "<sip:+4930999000@sbc.example>"}}));

    t.asserted_user = "+4930999001";
    t.privacy = routing::identity_policy::set;
    id = make_caller_identity(invite_with(""), t, "200", "sbc.example");
    EXPECT_EQ(id.headers, (headers{{"P-Asserted-Identity", "<sip:+4930999001@sbc.example>"}, {"Privacy", "id"}}));

    t.asserted_identity = routing::identity_policy::strip;
    id = make_caller_identity(m, t, "200", "sbc.example");
    EXPECT_EQ(id.headers, (headers{{"Privacy", "id"}}));
}

TEST(caller_identity, values_that_could_only_name_a_host_are_dropped) {
    routing::trunk t;
    const auto m = invite_with("P-Asserted-Identity: <sip:pbx.lan>, <http://x.example/>, garbage<\r\n"
                               "Diversion: <sip:10.0.0.1>;reason=user-busy\r\n");
    EXPECT_TRUE(make_caller_identity(m, t, "200", "h").headers.empty());
}

}  // namespace
}  // namespace b2b::b2bua
