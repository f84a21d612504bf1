// The registrar (RFC 3261 §10.3 steps 5-8): bindings added, refreshed, removed and listed.
#include "registration/registrar.hpp"

#include "registration/detail/registrar_values.hpp"
#include "sip/message/message.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace b2b::registration {
namespace {

using namespace std::chrono_literals;
using time_point = sip::timer_service::time_point;
using headers = std::vector<std::pair<std::string, std::string>>;

const time_point t0 = time_point{} + 1000h;
// Sat, 13 Nov 2010 23:29:00 GMT
const std::chrono::system_clock::time_point wall_t0 =
    std::chrono::sys_days{std::chrono::year{2010} / 11 / 13} + 23h + 29min;

sip::flow flow_from(std::string_view address, std::uint16_t port,
                    sip::transport_kind kind = sip::transport_kind::udp) {
    sip::flow f;
    f.transport = kind;
    f.local = {boost::asio::ip::make_address("10.0.0.1"), 5060};
    f.remote = {boost::asio::ip::make_address(std::string(address)), port};
    return f;
}

const sip::flow pbx = flow_from("192.168.1.5", 5060);

/// A REGISTER for To user `to_user`, with `lines` (Contact, Expires, ...) as extra header lines.
sip::message make_register(std::string_view lines, std::string_view call_id = "c1@192.168.1.5",
                           std::uint32_t cseq = 1, std::string_view to_user = "pbx") {
    std::string text = "REGISTER sip:10.0.0.1 SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP 192.168.1.5:5060;branch=z9hG4bK1\r\n"
                       "Max-Forwards: 70\r\n";
    text += "From: <sip:" + std::string(to_user) + "@10.0.0.1>;tag=f1\r\n";
    text += "To: <sip:" + std::string(to_user) + "@10.0.0.1>\r\n";
    text += "Call-ID: " + std::string(call_id) + "\r\n";
    text += "CSeq: " + std::to_string(cseq) + " REGISTER\r\n";
    text += lines;
    text += "Content-Length: 0\r\n\r\n";
    auto m = sip::parse_message(text);
    EXPECT_TRUE(m.has_value()) << text;
    return m ? std::move(*m) : sip::message{};
}

std::vector<std::string> values(const register_response& r, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [n, v] : r.headers) {
        if (n == name) out.push_back(v);
    }
    return out;
}

std::vector<std::string> contacts_of(const registrar& reg, std::string_view user, time_point now) {
    std::vector<std::string> out;
    for (const binding* b : reg.bindings_of(user, now)) out.push_back(b->contact);
    return out;
}

class registrar_test : public ::testing::Test {
protected:
    static registrar_policy policy() {
        registrar_policy p;
        p.min_expires = 60s;
        p.max_expires = 3600s;
        p.default_expires = 600s;
        p.max_bindings = 3;
        return p;
    }

    register_response send(std::string_view lines, std::string_view call_id = "c1@192.168.1.5",
                           std::uint32_t cseq = 1, time_point now = t0, const sip::flow& source = pbx,
                           std::string_view user = "pbx") {
        const auto m = make_register(lines, call_id, cseq, user);
        return reg.on_register(user, m, source, now);
    }

    registrar reg{policy(), [] { return wall_t0; }};
};

TEST_F(registrar_test, adds_a_binding_for_the_expires_header) {
    const auto r = send("Contact: <sip:200@192.168.1.5:5060>\r\nExpires: 300\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.reason, "OK");
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.headers, (headers{{"Contact", "<sip:200@192.168.1.5:5060>;expires=300"},
                                  {"Date", "Sat, 13 Nov 2010 23:29:00 GMT"}}));

    const auto bs = reg.bindings_of("pbx", t0);
    ASSERT_EQ(bs.size(), 1u);
    EXPECT_EQ(bs[0]->user, "pbx");
    EXPECT_EQ(bs[0]->contact, "sip:200@192.168.1.5:5060");
    EXPECT_EQ(bs[0]->call_id, "c1@192.168.1.5");
    EXPECT_EQ(bs[0]->cseq, 1u);
    EXPECT_EQ(bs[0]->source, pbx);
    EXPECT_FALSE(bs[0]->behind_nat);
    EXPECT_EQ(bs[0]->registered_at, t0);
    EXPECT_EQ(bs[0]->expires_at, t0 + 300s);
    EXPECT_EQ(reg.size(), 1u);
    EXPECT_TRUE(reg.bindings_of("other", t0).empty());
}

TEST_F(registrar_test, the_contact_expires_param_wins_over_the_header_and_the_default_applies_without_either) {
    send("Contact: <sip:a@192.168.1.5:5060>;expires=120\r\nExpires: 300\r\n");
    send("Contact: <sip:b@192.168.1.5:5060>\r\n", "c2");
    const auto bs = reg.bindings_of("pbx", t0);
    ASSERT_EQ(bs.size(), 2u);
    EXPECT_EQ(bs[0]->contact, "sip:b@192.168.1.5:5060");
    EXPECT_EQ(bs[0]->expires_at, t0 + 600s);  // default_expires
    EXPECT_EQ(bs[1]->contact, "sip:a@192.168.1.5:5060");
    EXPECT_EQ(bs[1]->expires_at, t0 + 120s);
}

TEST_F(registrar_test, a_bare_uri_s_parameters_are_header_parameters) {
    // RFC 3261 §20.10: without <>, ";expires=90" belongs to the header, not to the URI.
    const auto r = send("Contact: sip:200@192.168.1.5:5060;expires=90\r\nExpires: 300\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(values(r, "Contact"), std::vector<std::string>{"<sip:200@192.168.1.5:5060>;expires=90"});
    // Inside <>, URI parameters stay with the URI.
    send("Contact: <sip:201@192.168.1.5:5060;transport=tcp>;expires=100\r\n", "c2");
    EXPECT_EQ(contacts_of(reg, "pbx", t0),
              (std::vector<std::string>{"sip:201@192.168.1.5:5060;transport=tcp", "sip:200@192.168.1.5:5060"}));
}

TEST_F(registrar_test, several_contacts_in_one_header_and_in_several_headers) {
    const auto r = send(
        "Contact: <sip:a@192.168.1.5:5060>, \"B\" <sip:b@192.168.1.5:5060>;expires=100\r\n"
        "m: sip:c@192.168.1.5:5060;expires=200\r\n"
        "Expires: 300\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(values(r, "Contact"), (std::vector<std::string>{"<sip:a@192.168.1.5:5060>;expires=300",
                                                              "<sip:b@192.168.1.5:5060>;expires=100",
                                                              "<sip:c@192.168.1.5:5060>;expires=200"}));
    EXPECT_EQ(reg.size(), 3u);
}

TEST_F(registrar_test, a_refresh_with_the_same_call_id_and_a_higher_cseq_extends_the_binding) {
    send("Contact: <sip:200@192.168.1.5:5060>\r\nExpires: 300\r\n", "c1", 1);
    const auto r = send("Contact: <sip:200@192.168.1.5:5060>\r\nExpires: 300\r\n", "c1", 2, t0 + 100s);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(values(r, "Contact"), std::vector<std::string>{"<sip:200@192.168.1.5:5060>;expires=300"});
    const auto bs = reg.bindings_of("pbx", t0 + 100s);
    ASSERT_EQ(bs.size(), 1u);
    EXPECT_EQ(bs[0]->cseq, 2u);
    EXPECT_EQ(bs[0]->registered_at, t0 + 100s);
    EXPECT_EQ(bs[0]->expires_at, t0 + 400s);
    EXPECT_EQ(reg.size(), 1u);
}

TEST_F(registrar_test, the_same_call_id_with_a_cseq_not_higher_is_refused_and_changes_nothing) {
    send("Contact: <sip:200@192.168.1.5:5060>\r\nExpires: 300\r\n", "c1", 5);
    for (const std::uint32_t cseq : {5u, 4u}) {
        const auto r = send("Contact: <sip:200@192.168.1.5:5060>\r\nExpires: 900\r\n", "c1", cseq, t0 + 10s);
        EXPECT_EQ(r.status, 400) << cseq;
        EXPECT_EQ(r.reason, "Invalid CSeq");
        EXPECT_FALSE(r.changed);
        // Its removal too (§10.3 step 7: "the update MUST be aborted").
        EXPECT_EQ(send("Contact: <sip:200@192.168.1.5:5060>;expires=0\r\n", "c1", cseq, t0 + 10s).status, 400);
    }
    // A new Contact in the same request is not added either.
    EXPECT_EQ(send("Contact: <sip:201@192.168.1.5:5060>, <sip:200@192.168.1.5:5060>\r\n", "c1", 3, t0 + 10s).status,
              400);
    const auto bs = reg.bindings_of("pbx", t0 + 10s);
    ASSERT_EQ(bs.size(), 1u);
    EXPECT_EQ(bs[0]->cseq, 5u);
    EXPECT_EQ(bs[0]->expires_at, t0 + 300s);
}

TEST_F(registrar_test, another_call_id_replaces_the_binding_whatever_its_cseq) {
    send("Contact: <sip:200@192.168.1.5:5060>\r\nExpires: 300\r\n", "c1", 5);
    const auto r = send("Contact: <sip:200@192.168.1.5:5060>\r\nExpires: 600\r\n", "c2", 1, t0 + 10s);
    EXPECT_EQ(r.status, 200);
    const auto bs = reg.bindings_of("pbx", t0 + 10s);
    ASSERT_EQ(bs.size(), 1u);
    EXPECT_EQ(bs[0]->call_id, "c2");
    EXPECT_EQ(bs[0]->cseq, 1u);
    EXPECT_EQ(bs[0]->expires_at, t0 + 610s);
}

TEST_F(registrar_test, bindings_are_identified_by_uri_equivalence) {
    send("Contact: <sip:200@192.168.1.5:5060;transport=udp>\r\n", "c1", 1);
    // §19.1.4: scheme, host and parameter names compare case-insensitively: the same binding.
    EXPECT_EQ(send("Contact: <SIP:200@192.168.1.5:5060;TRANSPORT=udp>\r\n", "c1", 2).status, 200);
    EXPECT_EQ(reg.size(), 1u);
    EXPECT_EQ(reg.bindings_of("pbx", t0)[0]->cseq, 2u);
    // The user part compares exactly, and the port is part of the identity: new bindings (2, 3).
    send("Contact: <sip:Pbx200@192.168.1.5:5060;transport=udp>\r\n", "c1", 3);
    send("Contact: <sip:200@192.168.1.5:5062;transport=udp>\r\n", "c1", 4);
    EXPECT_EQ(reg.size(), 3u);
    // Another transport, or no port where there was one, would be a 4th: over max_bindings.
    EXPECT_EQ(send("Contact: <sip:200@192.168.1.5:5060;transport=tcp>\r\n", "c1", 5).status, 403);
    EXPECT_EQ(send("Contact: <sip:200@192.168.1.5;transport=udp>\r\n", "c1", 5).status, 403);
    // A URI parameter present in one only (other than transport, user, ttl, method, maddr) is
    // ignored: a refresh.
    EXPECT_EQ(send("Contact: <sip:200@192.168.1.5:5060;transport=udp;ob>\r\n", "c1", 5).status, 200);
    EXPECT_EQ(reg.size(), 3u);
    EXPECT_EQ(reg.bindings_of("pbx", t0)[0]->contact, "sip:200@192.168.1.5:5060;transport=udp;ob");
}

TEST_F(registrar_test, the_same_contact_twice_in_one_request_counts_once_the_last_wins) {
    const auto r = send("Contact: <sip:200@192.168.1.5:5060>;expires=100, <sip:200@192.168.1.5:5060>;expires=200\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(values(r, "Contact"), std::vector<std::string>{"<sip:200@192.168.1.5:5060>;expires=200"});
}

TEST_F(registrar_test, expires_zero_removes_that_binding_only) {
    send("Contact: <sip:a@192.168.1.5:5060>, <sip:b@192.168.1.5:5060>\r\nExpires: 300\r\n", "c1", 1);
    const auto r = send("Contact: <sip:a@192.168.1.5:5060>;expires=0\r\n", "c1", 2, t0 + 50s);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(values(r, "Contact"), std::vector<std::string>{"<sip:b@192.168.1.5:5060>;expires=250"});
    EXPECT_EQ(contacts_of(reg, "pbx", t0 + 50s), std::vector<std::string>{"sip:b@192.168.1.5:5060"});
    // The Expires header says 0 as well; a Contact with no binding is nothing to remove.
    const auto none = send("Contact: <sip:c@192.168.1.5:5060>\r\nExpires: 0\r\n", "c1", 3, t0 + 50s);
    EXPECT_EQ(none.status, 200);
    EXPECT_FALSE(none.changed);
    const auto last = send("Contact: <sip:b@192.168.1.5:5060>\r\nExpires: 0\r\n", "c1", 4, t0 + 50s);
    EXPECT_TRUE(last.changed);
    EXPECT_TRUE(values(last, "Contact").empty());
    EXPECT_EQ(reg.size(), 0u);
    EXPECT_FALSE(reg.next_expiry());
}

TEST_F(registrar_test, contact_star_with_expires_zero_removes_every_binding_of_the_account) {
    send("Contact: <sip:a@192.168.1.5:5060>, <sip:b@192.168.1.5:5060>\r\nExpires: 300\r\n", "c1", 1);
    send("Contact: <sip:c@192.168.1.5:5060>\r\n", "other-call", 1, t0, pbx, "alice");
    const auto r = send("Contact: *\r\nExpires: 0\r\n", "c9", 1, t0 + 10s);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(values(r, "Contact"), std::vector<std::string>{});
    EXPECT_EQ(values(r, "Date").size(), 1u);
    EXPECT_TRUE(reg.bindings_of("pbx", t0 + 10s).empty());
    EXPECT_EQ(reg.bindings_of("alice", t0 + 10s).size(), 1u);  // another account's are its own
    EXPECT_FALSE(send("Contact: *\r\nExpires: 0\r\n", "c9", 2, t0 + 10s).changed);
}

TEST_F(registrar_test, contact_star_is_refused_without_expires_zero_alone_or_out_of_order) {
    send("Contact: <sip:a@192.168.1.5:5060>\r\nExpires: 300\r\n", "c1", 7);
    for (const char* lines :
         {"Contact: *\r\n", "Contact: *\r\nExpires: 60\r\n", "Contact: *\r\nContact: *\r\nExpires: 0\r\n"}) {
        const auto r = send(lines, "c2", 1);
        EXPECT_EQ(r.status, 400) << lines;
        EXPECT_EQ(r.reason, "Bad Request");
        EXPECT_FALSE(r.changed);
    }
    // "*" beside an address does not even parse (RFC 3261 §10.3 step 6 makes it a 400 too).
    EXPECT_FALSE(sip::parse_message("REGISTER sip:h SIP/2.0\r\nContact: *, <sip:a@h>\r\n\r\n").has_value());
    // §10.3 step 6: the same Call-ID with a CSeq not higher aborts the removal.
    const auto stale = send("Contact: *\r\nExpires: 0\r\n", "c1", 7);
    EXPECT_EQ(stale.status, 400);
    EXPECT_EQ(stale.reason, "Invalid CSeq");
    EXPECT_EQ(reg.size(), 1u);
    EXPECT_EQ(send("Contact: *\r\nExpires: 0\r\n", "c1", 8).status, 200);
    EXPECT_EQ(reg.size(), 0u);
}

TEST_F(registrar_test, an_interval_too_brief_refuses_the_whole_request_with_min_expires) {
    auto r = send("Contact: <sip:a@192.168.1.5:5060>\r\nExpires: 30\r\n");
    EXPECT_EQ(r.status, 423);
    EXPECT_EQ(r.reason, "Interval Too Brief");
    EXPECT_EQ(r.headers, (headers{{"Min-Expires", "60"}}));
    EXPECT_FALSE(r.changed);
    EXPECT_EQ(reg.size(), 0u);

    send("Contact: <sip:a@192.168.1.5:5060>\r\nExpires: 300\r\n", "c1", 2);
    // One too brief among several: nothing changes, not even the removal or the refresh.
    r = send("Contact: <sip:b@192.168.1.5:5060>;expires=59, <sip:a@192.168.1.5:5060>;expires=0, "
             "<sip:c@192.168.1.5:5060>;expires=600\r\n",
             "c1", 3, t0 + 10s);
    EXPECT_EQ(r.status, 423);
    EXPECT_EQ(values(r, "Min-Expires"), std::vector<std::string>{"60"});
    EXPECT_EQ(contacts_of(reg, "pbx", t0 + 10s), std::vector<std::string>{"sip:a@192.168.1.5:5060"});
    EXPECT_EQ(reg.bindings_of("pbx", t0 + 10s)[0]->expires_at, t0 + 300s);
    // The minimum itself is fine.
    EXPECT_EQ(send("Contact: <sip:b@192.168.1.5:5060>\r\nExpires: 60\r\n", "c1", 4).status, 200);
}

TEST_F(registrar_test, an_interval_above_max_expires_is_shortened) {
    const auto r = send("Contact: <sip:a@192.168.1.5:5060>;expires=7200, <sip:b@192.168.1.5:5060>\r\n"
                        "Expires: 4294967296\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(values(r, "Contact"), (std::vector<std::string>{"<sip:a@192.168.1.5:5060>;expires=3600",
                                                              "<sip:b@192.168.1.5:5060>;expires=3600"}));
    EXPECT_EQ(reg.next_expiry(), t0 + 3600s);
}

TEST_F(registrar_test, a_malformed_expires_is_a_bad_request) {
    for (const char* lines :
         {"Contact: <sip:a@192.168.1.5:5060>\r\nExpires: soon\r\n",
          "Contact: <sip:a@192.168.1.5:5060>\r\nExpires: -1\r\n",
          "Contact: <sip:a@192.168.1.5:5060>;expires=1h\r\n", "Contact: <sip:a@192.168.1.5:5060>;expires\r\n",
          "Contact: <sip:a@192.168.1.5:5060>;expires=\"60\"\r\n"}) {
        const auto r = send(lines);
        EXPECT_EQ(r.status, 400) << lines;
        EXPECT_EQ(r.reason, "Bad Request");
        EXPECT_TRUE(r.headers.empty());
    }
    EXPECT_EQ(reg.size(), 0u);
}

TEST_F(registrar_test, a_contact_we_cannot_send_to_is_a_bad_request) {
    EXPECT_EQ(send("Contact: <tel:+15551234>\r\n").status, 400);
    EXPECT_EQ(reg.size(), 0u);
}

TEST_F(registrar_test, new_bindings_beyond_max_bindings_are_refused_and_nothing_changes) {
    send("Contact: <sip:a@192.168.1.5:5060>, <sip:b@192.168.1.5:5060>, <sip:c@192.168.1.5:5060>\r\n", "c1", 1);
    auto r = send("Contact: <sip:d@192.168.1.5:5060>, <sip:a@192.168.1.5:5060>;expires=900\r\n", "c1", 2, t0 + 5s);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.reason, "Too Many Registered Contacts");
    EXPECT_FALSE(r.changed);
    EXPECT_EQ(reg.size(), 3u);
    EXPECT_EQ(reg.bindings_of("pbx", t0)[0]->expires_at, t0 + 600s);
    // Refreshing the three is fine, and so is replacing one by a new one in one request.
    EXPECT_EQ(send("Contact: <sip:a@192.168.1.5:5060>, <sip:b@192.168.1.5:5060>, <sip:c@192.168.1.5:5060>\r\n",
                   "c1", 3, t0 + 5s)
                  .status,
              200);
    r = send("Contact: <sip:d@192.168.1.5:5060>;expires=900, <sip:a@192.168.1.5:5060>;expires=0\r\n", "c1", 4,
             t0 + 5s);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(contacts_of(reg, "pbx", t0 + 5s), (std::vector<std::string>{"sip:d@192.168.1.5:5060",
                                                                         "sip:b@192.168.1.5:5060",
                                                                         "sip:c@192.168.1.5:5060"}));
    // Expired bindings do not count: b and c expire at t0+605s, d lives on; d, e and f are 3.
    EXPECT_EQ(send("Contact: <sip:e@192.168.1.5:5060>, <sip:f@192.168.1.5:5060>\r\n", "c1", 5, t0 + 605s).status,
              200);
    EXPECT_EQ(contacts_of(reg, "pbx", t0 + 605s), (std::vector<std::string>{"sip:e@192.168.1.5:5060",
                                                                           "sip:f@192.168.1.5:5060",
                                                                           "sip:d@192.168.1.5:5060"}));
}

TEST_F(registrar_test, the_to_user_must_be_the_authenticated_account) {
    auto r = reg.on_register("pbx", make_register("Contact: <sip:a@192.168.1.5:5060>\r\n", "c1", 1, "other"), pbx, t0);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.reason, "Forbidden");
    EXPECT_TRUE(reg.bindings_of("pbx", t0).empty());
    // Compared unescaped: %70 is 'p'.
    r = reg.on_register("pbx", make_register("Contact: <sip:a@192.168.1.5:5060>\r\n", "c2", 1, "%70bx"), pbx, t0);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(reg.bindings_of("pbx", t0).size(), 1u);
    // A query is an account's business too.
    EXPECT_EQ(reg.on_register("pbx", make_register("", "c3", 1, "other"), pbx, t0).status, 403);
}

TEST_F(registrar_test, a_register_without_contact_is_a_query_listing_every_binding_with_its_remaining_time) {
    send("Contact: <sip:a@192.168.1.5:5060>\r\nExpires: 300\r\n", "c1", 1);
    send("Contact: <sip:b@192.168.1.5:5060>\r\nExpires: 600\r\n", "c1", 2, t0 + 20s);
    const auto r = send("", "c1", 3, t0 + 100s);
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.changed);
    EXPECT_EQ(r.headers, (headers{{"Contact", "<sip:b@192.168.1.5:5060>;expires=520"},
                                  {"Contact", "<sip:a@192.168.1.5:5060>;expires=200"},
                                  {"Date", "Sat, 13 Nov 2010 23:29:00 GMT"}}));
    // Nothing was refreshed by it.
    EXPECT_EQ(reg.bindings_of("pbx", t0)[1]->cseq, 1u);
    // A remaining part of a second is rounded up, never to "expires=0".
    EXPECT_EQ(values(send("", "c1", 4, t0 + 299s + 500ms), "Contact")[1], "<sip:a@192.168.1.5:5060>;expires=1");
    // An account without bindings gets a 200 listing none.
    const auto none = send("", "c5", 1, t0, pbx, "alice");
    EXPECT_EQ(none.status, 200);
    EXPECT_EQ(values(none, "Contact"), std::vector<std::string>{});
}

TEST_F(registrar_test, bindings_of_lists_the_most_recent_first_and_leaves_out_expired_ones) {
    send("Contact: <sip:a@192.168.1.5:5060>, <sip:b@192.168.1.5:5060>\r\nExpires: 300\r\n", "c1", 1);
    EXPECT_EQ(contacts_of(reg, "pbx", t0),
              (std::vector<std::string>{"sip:a@192.168.1.5:5060", "sip:b@192.168.1.5:5060"}));
    send("Contact: <sip:c@192.168.1.5:5060>\r\nExpires: 100\r\n", "c1", 2, t0 + 10s);
    send("Contact: <sip:b@192.168.1.5:5060>\r\nExpires: 300\r\n", "c1", 3, t0 + 20s);
    EXPECT_EQ(contacts_of(reg, "pbx", t0 + 20s), (std::vector<std::string>{"sip:b@192.168.1.5:5060",
                                                                          "sip:c@192.168.1.5:5060",
                                                                          "sip:a@192.168.1.5:5060"}));
    // c expires at t0+110s, a at t0+300s: gone from the list at that instant, before expire().
    EXPECT_EQ(reg.bindings_of("pbx", t0 + 110s - 1ms).size(), 3u);
    EXPECT_EQ(contacts_of(reg, "pbx", t0 + 110s),
              (std::vector<std::string>{"sip:b@192.168.1.5:5060", "sip:a@192.168.1.5:5060"}));
    EXPECT_EQ(contacts_of(reg, "pbx", t0 + 300s), std::vector<std::string>{"sip:b@192.168.1.5:5060"});
    EXPECT_EQ(reg.size(), 3u);
}

TEST_F(registrar_test, expire_removes_what_is_due_and_next_expiry_is_the_earliest) {
    EXPECT_FALSE(reg.next_expiry());
    EXPECT_EQ(reg.expire(t0), 0u);
    send("Contact: <sip:a@192.168.1.5:5060>\r\nExpires: 300\r\n", "c1", 1);
    send("Contact: <sip:b@192.168.1.5:5060>\r\nExpires: 100\r\n", "c1", 2);
    send("Contact: <sip:c@192.168.1.5:5060>\r\nExpires: 200\r\n", "c3", 1, t0, pbx, "alice");
    EXPECT_EQ(reg.next_expiry(), t0 + 100s);
    EXPECT_EQ(reg.expire(t0 + 100s - 1ms), 0u);
    EXPECT_EQ(reg.expire(t0 + 100s), 1u);
    EXPECT_EQ(reg.size(), 2u);
    EXPECT_EQ(reg.next_expiry(), t0 + 200s);
    EXPECT_EQ(reg.expire(t0 + 1000s), 2u);
    EXPECT_EQ(reg.size(), 0u);
    EXPECT_FALSE(reg.next_expiry());
    std::size_t seen = 0;
    reg.for_each([&](const binding&) { ++seen; });
    EXPECT_EQ(seen, 0u);
}

TEST_F(registrar_test, for_each_visits_every_account_s_bindings) {
    send("Contact: <sip:a@192.168.1.5:5060>, <sip:b@192.168.1.5:5060>\r\n", "c1", 1);
    send("Contact: <sip:c@192.168.1.5:5060>\r\n", "c3", 1, t0, pbx, "alice");
    std::vector<std::string> seen;
    reg.for_each([&](const binding& b) { seen.push_back(b.user + " " + b.contact); });
    EXPECT_EQ(seen, (std::vector<std::string>{"alice sip:c@192.168.1.5:5060", "pbx sip:a@192.168.1.5:5060",
                                              "pbx sip:b@192.168.1.5:5060"}));
}

TEST_F(registrar_test, a_binding_is_behind_nat_when_its_contact_is_not_where_the_register_came_from) {
    struct row {
        const char* contact;
        sip::flow source;
        bool behind_nat;
    };
    const sip::flow tls_like = flow_from("192.168.1.5", 5061, sip::transport_kind::tcp);
    const std::vector<row> rows{
        {"sip:a@192.168.1.5:5060", pbx, false},
        {"sip:b@192.168.1.5", pbx, false},                          // no port: 5060
        {"sips:c@192.168.1.5", tls_like, false},                    // sips: 5061
        {"sip:d@192.168.1.5", tls_like, true},                      // port differs
        {"sip:e@10.1.1.1:5060", flow_from("203.0.113.7", 5060), true},  // address differs (NAT)
        {"sip:f@192.168.1.5:5060", flow_from("192.168.1.5", 40000), true},
        {"sip:g@pbx.example.com:5060", pbx, true},                  // a name: the source is what we reach
        {"sip:h@[2001:db8::5]:5070", flow_from("2001:db8::5", 5070), false},
        {"sip:i@[2001:db8::5]:5070", flow_from("2001:db8::6", 5070), true},
    };
    std::uint32_t cseq = 0;
    for (const row& x : rows) {
        const auto r = send("Contact: <" + std::string(x.contact) + ">\r\n", "c" + std::to_string(cseq), 1, t0,
                            x.source, "u" + std::to_string(cseq));
        ASSERT_EQ(r.status, 200) << x.contact;
        const auto bs = reg.bindings_of("u" + std::to_string(cseq), t0);
        ASSERT_EQ(bs.size(), 1u);
        EXPECT_EQ(bs[0]->behind_nat, x.behind_nat) << x.contact;
        EXPECT_EQ(bs[0]->source, x.source) << x.contact;
        ++cseq;
    }
}

TEST_F(registrar_test, a_refresh_from_another_source_moves_the_binding_to_it) {
    send("Contact: <sip:a@192.168.1.5:5060>\r\n", "c1", 1);
    EXPECT_FALSE(reg.bindings_of("pbx", t0)[0]->behind_nat);
    const sip::flow natted = flow_from("203.0.113.7", 31000);
    send("Contact: <sip:a@192.168.1.5:5060>\r\n", "c1", 2, t0 + 1s, natted);
    EXPECT_TRUE(reg.bindings_of("pbx", t0 + 1s)[0]->behind_nat);
    EXPECT_EQ(reg.bindings_of("pbx", t0 + 1s)[0]->source, natted);
}

TEST_F(registrar_test, replace_makes_an_account_s_bindings_what_another_node_has_and_its_register_rules_follow) {
    send("Contact: <sip:200@192.168.1.5:5060>\r\nExpires: 300\r\n", "c1", 1);
    send("Contact: <sip:300@192.168.1.9:5060>\r\nExpires: 300\r\n", "o1", 1, t0, flow_from("192.168.1.9", 5060), "other");

    // Another node took a refresh (CSeq 7) and a second Contact for the account.
    binding moved;
    moved.user = "pbx";
    moved.contact = "sip:200@192.168.1.6:5062";
    moved.call_id = "c1";
    moved.cseq = 7;
    moved.source = flow_from("192.168.1.6", 5062);
    moved.destination = moved.source.remote;
    moved.registered_at = t0 + 5s;
    moved.expires_at = t0 + 905s;
    binding second = moved;
    second.contact = "sip:201@192.168.1.6:5062";
    second.call_id = "c9";
    second.cseq = 2;
    reg.replace("pbx", {moved, second});
    EXPECT_EQ(contacts_of(reg, "pbx", t0 + 10s),
              (std::vector<std::string>{"sip:200@192.168.1.6:5062", "sip:201@192.168.1.6:5062"}));
    EXPECT_EQ(contacts_of(reg, "other", t0 + 10s), std::vector<std::string>{"sip:300@192.168.1.9:5060"});
    EXPECT_EQ(reg.size(), 3u);
    EXPECT_EQ(reg.next_expiry(), t0 + 300s);  // other's

    // §10.3 step 7 now holds against the other node's CSeq: CSeq 5 of Call-ID c1 is old news here too.
    EXPECT_EQ(send("Contact: <sip:200@192.168.1.6:5062>\r\nExpires: 300\r\n", "c1", 5, t0 + 20s).status, 400);
    EXPECT_EQ(send("Contact: <sip:200@192.168.1.6:5062>\r\nExpires: 300\r\n", "c1", 8, t0 + 20s).status, 200);

    // None left on the other node: none here, and the account is gone rather than empty.
    reg.replace("pbx", {});
    EXPECT_TRUE(contacts_of(reg, "pbx", t0 + 20s).empty());
    EXPECT_EQ(reg.size(), 1u);
    std::size_t accounts = 0;
    reg.for_each([&](const binding& b) { accounts += b.user == "pbx" ? 1 : 0; });
    EXPECT_EQ(accounts, 0u);
    reg.replace("nobody", {});  // nothing to remove: nothing happens
    EXPECT_EQ(reg.size(), 1u);
}

TEST_F(registrar_test, a_path_is_stored_with_the_binding_and_requests_go_to_its_first_entry) {
    // RFC 3327: a proxy (a cluster's dispatcher) added itself, with where the PBX really is.
    const sip::flow via_proxy = flow_from("10.0.0.10", 5060);
    const auto r = send("Contact: <sip:200@192.168.1.50:5060>\r\nExpires: 300\r\n"
                        "Path: <sip:10.0.0.10:5060;lr;received=sip:203.0.113.9:41234>\r\n"
                        "Path: <sip:edge.example;lr>\r\n",
                        "c1", 1, t0, via_proxy);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(values(r, "Path").empty()) << "the PBX did not say Supported: path";
    auto bs = reg.bindings_of("pbx", t0);
    ASSERT_EQ(bs.size(), 1u);
    EXPECT_EQ(bs[0]->path, (std::vector<std::string>{"<sip:10.0.0.10:5060;lr;received=sip:203.0.113.9:41234>",
                                                     "<sip:edge.example;lr>"}));
    EXPECT_FALSE(bs[0]->behind_nat) << "the proxy keeps its NAT open, not us";
    EXPECT_EQ(bs[0]->destination, via_proxy.remote);

    // §5.3: a UA that supports path is told the one stored; a refresh without Path drops it.
    const auto echoed = send("Contact: <sip:200@192.168.1.50:5060>\r\nExpires: 300\r\nSupported: path\r\n"
                             "Path: <sip:10.0.0.11:5070;lr>, <sip:10.0.0.12;lr>\r\n",
                             "c1", 2, t0, via_proxy);
    EXPECT_EQ(values(echoed, "Path"), (std::vector<std::string>{"<sip:10.0.0.11:5070;lr>", "<sip:10.0.0.12;lr>"}));
    bs = reg.bindings_of("pbx", t0);
    ASSERT_EQ(bs.size(), 1u);
    EXPECT_EQ(bs[0]->destination, flow_from("10.0.0.11", 5070).remote);
    send("Contact: <sip:200@192.168.1.50:5060>\r\nExpires: 300\r\n", "c1", 3, t0, via_proxy);
    bs = reg.bindings_of("pbx", t0);
    ASSERT_EQ(bs.size(), 1u);
    EXPECT_TRUE(bs[0]->path.empty());
    EXPECT_TRUE(bs[0]->behind_nat);
    EXPECT_EQ(bs[0]->destination, via_proxy.remote);

    // A Path that is not a list of bracketed addresses: 400, nothing changes.
    const auto bad = send("Contact: <sip:201@192.168.1.50:5060>\r\nPath: sip:10.0.0.10;lr\r\n", "c2", 1, t0, via_proxy);
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.reason, "Bad Path");
    EXPECT_EQ(reg.size(), 1u);
}

TEST(registrar_values, sip_date_and_delta_seconds) {
    using namespace std::chrono;
    EXPECT_EQ(detail::format_sip_date(system_clock::time_point{}), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(detail::format_sip_date(sys_days{year{2024} / 2 / 29} + 9h + 5min + 7s + 999ms),
              "Thu, 29 Feb 2024 09:05:07 GMT");
    EXPECT_EQ(detail::format_sip_date(wall_t0), "Sat, 13 Nov 2010 23:29:00 GMT");
    // What we write is a Date our own parser accepts (RFC 3261 §20.17).
    const std::string text = "REGISTER sip:h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n"
                             "From: <sip:a@h>;tag=1\r\nTo: <sip:a@h>\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\nDate: " +
                             detail::format_sip_date(sys_days{year{2031} / 12 / 31} + 23h + 59min + 59s) +
                             "\r\nContent-Length: 0\r\n\r\n";
    const auto m = sip::parse_message(text);
    ASSERT_TRUE(m.has_value());
    EXPECT_TRUE(sip::validate_request(*m).has_value());

    EXPECT_EQ(detail::parse_delta_seconds("0"), 0u);
    EXPECT_EQ(detail::parse_delta_seconds(" 3600 "), 3600u);
    EXPECT_EQ(detail::parse_delta_seconds("99999999999999999999"), 0xffffffffu);
    EXPECT_FALSE(detail::parse_delta_seconds(""));
    EXPECT_FALSE(detail::parse_delta_seconds("+5"));
    EXPECT_FALSE(detail::parse_delta_seconds("5 s"));
    // As the client reads a grant, a Min-Expires or a Retry-After (register_response).
    EXPECT_EQ(detail::parse_delta_seconds(" 600 "), 600u);
    EXPECT_EQ(detail::parse_delta_seconds("99999999999"), 4294967295u);
    EXPECT_FALSE(detail::parse_delta_seconds("-1"));
    EXPECT_FALSE(detail::parse_delta_seconds("60s"));
}

}  // namespace
}  // namespace b2b::registration
