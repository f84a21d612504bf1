// Tests for dialog_set: forks sorted by To tag, the first 2xx confirms, another fork's 2xx is ended.
#include "dialog/dialog_set.hpp"

#include "sip/message/writer.hpp"

#include <gtest/gtest.h>

namespace b2b::dialog {
namespace {

const std::string invite_bytes =
    "INVITE sip:1000@192.0.2.9 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport\r\n"
    "Max-Forwards: 69\r\n"
    "From: <sip:200@127.0.0.1>;tag=ours\r\n"
    "To: <sip:1000@192.0.2.9>\r\n"
    "Call-ID: leg-b\r\n"
    "CSeq: 2 INVITE\r\n"
    "Contact: <sip:b2bua@127.0.0.1:5070>\r\n"
    "Content-Length: 0\r\n\r\n";

dialog_state initial() {
    dialog_state d;
    d.call_id = "leg-b";
    d.local = "<sip:200@127.0.0.1>;tag=ours";
    d.remote = "<sip:1000@192.0.2.9>";
    d.remote_target = "sip:1000@192.0.2.9";
    d.local_cseq = 2;
    return d;
}

sip::message response(int status, std::string_view tag, std::string_view contact, std::string_view rr = {}) {
    auto req = sip::parse_message(invite_bytes).value();
    auto w = sip::response_writer(req, status, sip::default_reason(status), tag);
    if (!contact.empty()) w.header("Contact", contact);
    if (!rr.empty()) w.header("Record-Route", rr);
    return sip::parse_message(std::move(w).finish()).value();
}

TEST(dialog_set, provisionals_make_one_early_dialog_per_tag) {
    dialog_set set{initial()};
    EXPECT_EQ(set.on_response(response(100, "", "")), dialog_set::verdict::no_dialog);
    EXPECT_EQ(set.on_response(response(180, "", "")), dialog_set::verdict::no_dialog);
    EXPECT_EQ(set.on_response(response(180, "forkA", "<sip:a@192.0.2.10>")), dialog_set::verdict::early);
    EXPECT_EQ(set.on_response(response(183, "forkB", "<sip:b@192.0.2.11>")), dialog_set::verdict::early);
    EXPECT_EQ(set.on_response(response(180, "forkA", "<sip:a@192.0.2.10>")), dialog_set::verdict::early);
    EXPECT_EQ(set.early_dialogs(), 2u);
    EXPECT_FALSE(set.is_confirmed());
}

TEST(dialog_set, settling_forgets_the_forks_and_keeps_the_confirmed_dialog) {
    dialog_set set{initial()};
    set.on_response(response(180, "forkA", "<sip:a@192.0.2.10>"));
    set.on_response(response(200, "forkB", "<sip:b@192.0.2.11>"));
    set.on_response(response(200, "forkC", "<sip:c@192.0.2.12>"));
    set.settle();
    EXPECT_EQ(set.early_dialogs(), 0u);
    ASSERT_TRUE(set.is_confirmed());
    EXPECT_EQ(set.confirmed().remote_tag(), "forkB");
    EXPECT_EQ(set.confirmed().remote_target, "sip:b@192.0.2.11");
}

TEST(dialog_set, the_first_2xx_confirms_its_dialog_with_route_set_reversed) {
    dialog_set set{initial()};
    set.on_response(response(180, "forkA", "<sip:a@192.0.2.10>"));
    ASSERT_EQ(set.on_response(response(200, "forkB", "<sip:b@192.0.2.11>", "<sip:p1;lr>, <sip:p2;lr>")),
              dialog_set::verdict::confirmed);
    const auto& d = set.confirmed();
    EXPECT_EQ(d.remote_tag(), "forkB");
    EXPECT_EQ(d.remote_target, "sip:b@192.0.2.11");
    ASSERT_EQ(d.route_set.size(), 2u);
    EXPECT_EQ(d.route_set[0], "<sip:p2;lr>");  // §12.1.2: reversed
    EXPECT_EQ(d.call_id, "leg-b");
    EXPECT_EQ(d.local_tag(), "ours");
    EXPECT_EQ(set.on_response(response(200, "forkB", "<sip:b@192.0.2.11>")), dialog_set::verdict::retransmission);
}

TEST(dialog_set, a_2xx_from_another_fork_is_its_own_dialog_to_end) {
    dialog_set set{initial()};
    set.on_response(response(200, "forkA", "<sip:a@192.0.2.10>"));
    const auto other = response(200, "forkB", "<sip:b@192.0.2.11>");
    ASSERT_EQ(set.on_response(other), dialog_set::verdict::other_fork);
    const auto fork = set.fork_dialog(other);
    EXPECT_EQ(fork.remote_tag(), "forkB");
    EXPECT_EQ(fork.remote_target, "sip:b@192.0.2.11");
    EXPECT_EQ(fork.call_id, "leg-b");
    EXPECT_GE(fork.local_cseq, 2u);
    // Its retransmission is not a new fork to end again.
    EXPECT_EQ(set.on_response(other), dialog_set::verdict::retransmission);
    EXPECT_EQ(set.confirmed().remote_tag(), "forkA");  // the call keeps the first
}

TEST(dialog_set, before_the_2xx_its_state_is_the_dialog_as_the_invite_made_it) {
    dialog_set set{initial()};
    set.on_response(response(180, "forkA", "<sip:a@192.0.2.10>"));
    EXPECT_FALSE(set.is_confirmed());
    EXPECT_EQ(set.state().remote, "<sip:1000@192.0.2.9>");  // the To without tag
    EXPECT_EQ(set.state().remote_target, "sip:1000@192.0.2.9");
    EXPECT_TRUE(set.state().remote_tag().empty());
}

TEST(dialog_set, another_forks_dialog_sees_no_request_of_the_confirmed_peer) {
    dialog_set set{initial()};
    set.on_response(response(200, "forkA", "<sip:a@192.0.2.10>", "<sip:p1;lr>"));
    set.confirmed().remote_cseq = 7;  // the confirmed peer sent a request meanwhile
    set.confirmed().local_cseq = 5;
    const auto fork = set.fork_dialog(response(200, "forkB", "<sip:b@192.0.2.11>"));
    EXPECT_FALSE(fork.remote_cseq.has_value());
    EXPECT_TRUE(fork.route_set.empty());  // its own response's Record-Route: none
    EXPECT_EQ(fork.local_tag(), "ours");
    EXPECT_EQ(fork.local, "<sip:200@127.0.0.1>;tag=ours");
    EXPECT_EQ(fork.local_cseq, 5u);
}

TEST(dialog_set, failures_make_no_dialog) {
    dialog_set set{initial()};
    EXPECT_EQ(set.on_response(response(486, "x", "")), dialog_set::verdict::no_dialog);
    EXPECT_FALSE(set.is_confirmed());
}

}  // namespace
}  // namespace b2b::dialog
