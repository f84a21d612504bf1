// 3xx from a trunk: followed to a configured trunk (at most 3 times), otherwise 480 to the caller.
#include "tests/unit/b2bua/call_flow.hpp"

#include <gtest/gtest.h>

namespace b2b::b2bua::test {
namespace {

class redirect : public ::testing::Test, public b2bua_harness {
protected:
    redirect() : b2bua_harness({numbered_trunk(1, "alpha", ""), numbered_trunk(2, "beta", "9")}) {}
    void TearDown() override { expect_no_strays(); }

    pbx_actor& pbx = add_pbx("pbx");
    trunk_actor& alpha = trunk_named("alpha");
    trunk_actor& beta = trunk_named("beta");
};

TEST_F(redirect, a_302_to_another_trunk_is_followed_as_a_new_dialog_and_the_caller_sees_only_the_answer) {
    auto c = pbx.new_call("0301234");
    auto first = authenticated_invite(pbx, c, alpha);
    alpha.respond(first, 302, "Moved Temporarily",
                  {{"Contact", "<sip:+4930777@" + beta.host_port() + ">;q=0.5, <sip:ignored@192.0.2.1>;q=0.1"}});
    alpha.expect("ACK");
    auto second = beta.expect("INVITE");
    EXPECT_EQ(second.request_uri().text, "sip:+4930777@" + beta.host_port());
    EXPECT_NE(second.call_id(), first.call_id());
    EXPECT_NE(second.from().tag, first.from().tag);
    EXPECT_EQ(second.body(), sdp_offer);
    pbx.expect_nothing();  // nothing of the redirect reaches the caller
    beta.ok(second);
    auto ok = pbx.expect("SIP/2.0 200");
    EXPECT_EQ(ok.wire().find(beta.host_port()), std::string_view::npos);
    c.to_tag = std::string(ok.to().tag);
    pbx.ack(c);
    beta.expect("ACK");
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "beta"}, {"result", "answered"}}), 1);
}

TEST_F(redirect, a_302_to_an_unknown_host_gives_480_without_its_contact) {
    auto c = pbx.new_call("0301234");
    auto first = authenticated_invite(pbx, c, alpha);
    alpha.respond(first, 302, "Moved Temporarily", {{"Contact", "<sip:+4930777@192.0.2.9:5060>"}});
    alpha.expect("ACK");
    auto answer = pbx.expect("SIP/2.0 480");
    EXPECT_TRUE(answer.contacts().empty());
    EXPECT_EQ(answer.wire().find("192.0.2.9"), std::string_view::npos);
    beta.expect_nothing();
    EXPECT_EQ(b2b.active_calls(), 0u);
}

TEST_F(redirect, at_most_three_redirects_are_followed) {
    auto c = pbx.new_call("0301234");
    auto invite = authenticated_invite(pbx, c, alpha);
    trunk_actor* from = &alpha;
    trunk_actor* to = &beta;
    for (int i = 0; i < 3; ++i) {
        from->respond(invite, 302, "Moved Temporarily", {{"Contact", "<sip:777@" + to->host_port() + ">"}});
        from->expect("ACK");
        invite = to->expect("INVITE");
        std::swap(from, to);
    }
    from->respond(invite, 302, "Moved Temporarily", {{"Contact", "<sip:777@" + to->host_port() + ">"}});
    from->expect("ACK");
    pbx.expect("SIP/2.0 480");
    to->expect_nothing();
    EXPECT_EQ(b2b.active_calls(), 0u);
}

// A trunk at an IPv6 address: its Contact in a 302 may write the address in another text form
// ("[2001:db8:0::22]" for "[2001:db8::22]"); it is still that trunk (RFC 5954 §4), and leg B's
// Request-URI and To name it bracketed (RFC 5118 §4.1).
class redirect_to_ipv6 : public ::testing::Test, public b2bua_harness {
protected:
    redirect_to_ipv6()
        : b2bua_harness({numbered_trunk(1, "alpha", ""),
                         trunk_spec{"beta6", ep("2001:db8::22", 5202), "9", "beta6-user", "beta6-pass", {}, {}}}) {}
    void TearDown() override { expect_no_strays(); }

    pbx_actor& pbx = add_pbx("pbx");
    trunk_actor& alpha = trunk_named("alpha");
    trunk_actor& beta = trunk_named("beta6");
};

TEST_F(redirect_to_ipv6, a_302_naming_the_trunks_address_in_another_text_form_is_followed) {
    auto c = pbx.new_call("0301234");
    auto first = authenticated_invite(pbx, c, alpha);
    alpha.respond(first, 302, "Moved Temporarily", {{"Contact", "<sip:+4930777@[2001:db8:0::22]:5202>"}});
    alpha.expect("ACK");
    auto second = beta.expect("INVITE");
    EXPECT_EQ(second.request_uri().host_type, sip::host_kind::ipv6);
    EXPECT_TRUE(sip::same_ip_address(second.request_uri().host, "2001:db8::22"));
    EXPECT_EQ(second.request_uri().port, 5202);
    EXPECT_EQ(second.to().uri.host_type, sip::host_kind::ipv6);
    beta.ok(second);
    auto ok = pbx.expect("SIP/2.0 200");
    c.to_tag = std::string(ok.to().tag);
    pbx.ack(c);
    beta.expect("ACK");
    EXPECT_EQ(counter("b2bua_calls_total", {{"trunk", "beta6"}, {"result", "answered"}}), 1);
}

TEST_F(redirect_to_ipv6, a_call_to_an_ipv6_trunk_names_it_bracketed) {
    auto c = pbx.new_call("9301234");
    auto invite = authenticated_invite(pbx, c, beta);
    EXPECT_EQ(invite.request_uri().text, "sip:9301234@[2001:db8::22]:5202");
    EXPECT_EQ(invite.to().uri.text, "sip:9301234@[2001:db8::22]:5202");
    beta.ok(invite);
    auto ok = pbx.expect("SIP/2.0 200");
    EXPECT_EQ(ok.wire().find("2001:db8"), std::string_view::npos);  // nothing of the trunk at the PBX
    c.to_tag = std::string(ok.to().tag);
    pbx.ack(c);
    auto ack = beta.expect("ACK");
    // The ACK of the 2xx goes to the trunk's Contact, its bracketed address (§13.2.2.4).
    EXPECT_EQ(ack.request_uri().host, "[2001:db8::22]");
}

class redirect_to_a_full_trunk : public ::testing::Test, public b2bua_harness {
protected:
    redirect_to_a_full_trunk()
        : b2bua_harness({numbered_trunk(1, "alpha", ""), numbered_trunk(2, "beta", "9", "max_calls: 1")}) {}
    void TearDown() override { expect_no_strays(); }

    pbx_actor& pbx = add_pbx("pbx");
    trunk_actor& alpha = trunk_named("alpha");
    trunk_actor& beta = trunk_named("beta");
};

TEST_F(redirect_to_a_full_trunk, is_not_followed_past_the_trunks_max_calls) {
    auto busy = pbx.new_call("9555");  // takes beta's one call slot, ringing
    auto on_beta = authenticated_invite(pbx, busy, beta);
    beta.ringing(on_beta);
    pbx.expect("SIP/2.0 180");

    auto c = pbx.new_call("0301234");
    auto first = authenticated_invite(pbx, c, alpha);
    alpha.respond(first, 302, "Moved Temporarily", {{"Contact", "<sip:777@" + beta.host_port() + ">"}});
    alpha.expect("ACK");
    pbx.expect("SIP/2.0 480");
    beta.expect_nothing();
}

}  // namespace
}  // namespace b2b::b2bua::test
