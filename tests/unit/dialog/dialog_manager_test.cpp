// Tests for dialog_manager: the one transaction user dispatches out of dialog, in dialog, CANCEL, 481.
#include "dialog/dialog_manager.hpp"

#include "sip/message/writer.hpp"
#include "tests/fakes/loopback_transport.hpp"
#include "tests/fakes/manual_timer_service.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace b2b::dialog {
namespace {

using namespace std::chrono_literals;

const sip::endpoint our_end{boost::asio::ip::make_address("127.0.0.1"), 5070};
const sip::endpoint peer_end{boost::asio::ip::make_address("127.0.0.9"), 5060};

std::string request(std::string_view method, std::string_view call_id, std::string_view to_tag,
                    std::string_view branch, unsigned cseq = 1) {
    sip::message_writer w;
    w.request_line(method, "sip:1000@127.0.0.1:5070");
    w.header("Via", "SIP/2.0/UDP 127.0.0.9:5060;branch=" + std::string(branch));
    w.header("Max-Forwards", "70");
    w.header("From", "<sip:200@127.0.0.9>;tag=theirs");
    w.header("To", to_tag.empty() ? std::string("<sip:1000@127.0.0.1>") : "<sip:1000@127.0.0.1>;tag=" + std::string(to_tag));
    w.header("Call-ID", call_id);
    w.header_concat("CSeq", cseq, " ", method == "ACK" || method == "CANCEL" ? method : method);
    return std::move(w).finish();
}

class recording_usage final : public dialog_usage, public invite_owner {
public:
    void on_request(sip::transaction_id txn, sip::message&& r, const sip::flow&) override {
        requests.push_back(std::string(r.method_text()));
        last_txn = txn;
    }
    void on_ack(sip::message&&, const sip::flow&) override { ++acks; }
    void on_cancel(sip::transaction_id txn, const sip::message&, sip::transaction_id, bool answered) override {
        cancels.push_back(answered);
        cancel_txn = txn;
    }
    void on_invite_failure(sip::transaction_id, sip::transaction_failure) override { ++failures; }

    std::vector<std::string> requests;
    std::vector<bool> cancels;
    sip::transaction_id last_txn = 0;
    sip::transaction_id cancel_txn = 0;
    int acks = 0;
    int failures = 0;
};

class recording_handler final : public out_of_dialog_handler {
public:
    void on_request(sip::transaction_id txn, sip::message&& r, const sip::flow&) override {
        requests.push_back(std::string(r.method_text()));
        last_txn = txn;
        last_call_id = std::string(r.call_id());
    }
    std::vector<std::string> requests;
    sip::transaction_id last_txn = 0;
    std::string last_call_id;
};

class dialog_manager_test : public testing::Test {
protected:
    dialog_manager_test() {
        net.set_user(&txm);
        dm.attach(txm, handler);
    }
    void peer_sends(const std::string& bytes) { net.inject_from(peer_end, bytes); }
    sip::message last_sent() const { return sip::parse_message(net.sent().back().bytes).value(); }

    test::manual_timer_service clock;
    test::loopback_transport net{our_end};
    dialog_manager dm;
    sip::transaction_manager txm{net, clock, dm};
    recording_handler handler;
    recording_usage usage;
};

TEST_F(dialog_manager_test, requests_without_a_to_tag_go_to_the_handler) {
    peer_sends(request("OPTIONS", "c1", "", "z9hG4bK1"));
    EXPECT_EQ(handler.requests, (std::vector<std::string>{"OPTIONS"}));
    EXPECT_TRUE(usage.requests.empty());
}

TEST_F(dialog_manager_test, in_dialog_requests_find_their_dialog_by_call_id_and_our_tag) {
    dm.add({"c1", "ourtag"}, usage);
    peer_sends(request("BYE", "c1", "ourtag", "z9hG4bK2"));
    EXPECT_EQ(usage.requests, (std::vector<std::string>{"BYE"}));
    peer_sends(request("INFO", "c1", "ourtag", "z9hG4bK3"));
    EXPECT_EQ(usage.requests.size(), 2u);
    EXPECT_TRUE(handler.requests.empty());
    EXPECT_EQ(dm.dialogs(), 1u);
    dm.remove({"c1", "ourtag"});
    EXPECT_EQ(dm.dialogs(), 0u);
}

TEST_F(dialog_manager_test, a_request_for_no_dialog_gets_481_with_its_own_identifiers) {
    dm.add({"c1", "ourtag"}, usage);
    peer_sends(request("BYE", "c2", "ourtag", "z9hG4bK4", 7));  // another Call-ID
    peer_sends(request("BYE", "c1", "othertag", "z9hG4bK5", 8));  // another tag
    ASSERT_EQ(net.sent().size(), 2u);
    const auto first = sip::parse_message(net.sent()[0].bytes).value();
    EXPECT_EQ(first.status(), 481);
    EXPECT_EQ(first.call_id(), "c2");
    EXPECT_EQ(first.to().tag, "ourtag");
    EXPECT_EQ(first.from().tag, "theirs");
    EXPECT_EQ(first.cseq().seq, 7u);
    EXPECT_EQ(first.vias()[0].branch, "z9hG4bK4");
    const auto second = last_sent();
    EXPECT_EQ(second.status(), 481);
    EXPECT_EQ(second.call_id(), "c1");
    EXPECT_EQ(second.to().tag, "othertag");
    EXPECT_TRUE(usage.requests.empty());
}

// The index holds Call-ID and tag as one text: where one ends and the other begins still
// tells two dialogs apart.
TEST_F(dialog_manager_test, call_id_and_tag_are_not_run_together) {
    dm.add({"c1a", "b"}, usage);
    peer_sends(request("BYE", "c1", "ab", "z9hG4bK8"));
    EXPECT_TRUE(usage.requests.empty());
    ASSERT_EQ(net.sent().size(), 1u);
    EXPECT_EQ(last_sent().status(), 481);
    peer_sends(request("BYE", "c1a", "b", "z9hG4bK9"));
    EXPECT_EQ(usage.requests.size(), 1u);
}

TEST_F(dialog_manager_test, acks_go_to_their_dialog_and_strays_are_dropped) {
    dm.add({"c1", "ourtag"}, usage);
    peer_sends(request("ACK", "c1", "ourtag", "z9hG4bK6"));
    peer_sends(request("ACK", "c9", "ourtag", "z9hG4bK7"));
    EXPECT_EQ(usage.acks, 1);
    EXPECT_TRUE(net.sent().empty());  // an ACK is never answered
}

TEST_F(dialog_manager_test, cancel_finds_its_invite_owner) {
    peer_sends(request("INVITE", "c1", "", "z9hG4bKinv"));
    ASSERT_EQ(handler.requests, (std::vector<std::string>{"INVITE"}));
    dm.own(handler.last_txn, usage);
    peer_sends(request("CANCEL", "c1", "", "z9hG4bKinv"));
    EXPECT_EQ(usage.cancels, (std::vector<bool>{false}));
    EXPECT_NE(usage.cancel_txn, 0u);
    dm.disown(handler.last_txn);
}

TEST_F(dialog_manager_test, a_cancel_crossing_the_final_response_still_matches_as_answered) {
    peer_sends(request("INVITE", "c1", "", "z9hG4bKinv"));
    const auto invite_txn = handler.last_txn;
    dm.own(invite_txn, usage);
    const auto invite = sip::parse_message(request("INVITE", "c1", "", "z9hG4bKinv")).value();
    txm.respond(invite_txn, 486, sip::response_writer(invite, 486, "Busy Here", "ourtag").finish());
    peer_sends(request("CANCEL", "c1", "", "z9hG4bKinv"));
    EXPECT_EQ(usage.cancels, (std::vector<bool>{true}));  // §9.2: 200, no effect
}

TEST_F(dialog_manager_test, a_cancel_matching_nothing_gets_481) {
    peer_sends(request("CANCEL", "nothing", "", "z9hG4bKnone"));
    ASSERT_EQ(net.sent().size(), 1u);
    EXPECT_EQ(last_sent().status(), 481);
    EXPECT_TRUE(usage.cancels.empty());
}

TEST_F(dialog_manager_test, an_unanswered_2xx_reaches_the_invite_owner_as_a_failure) {
    peer_sends(request("INVITE", "c1", "", "z9hG4bKinv2"));
    const auto invite_txn = handler.last_txn;
    dm.own(invite_txn, usage);
    const auto invite = sip::parse_message(request("INVITE", "c1", "", "z9hG4bKinv2")).value();
    txm.respond(invite_txn, 200, sip::response_writer(invite, 200, "OK", "ourtag").finish());
    clock.advance(40s);  // Timer L (64*T1) without an ACK
    EXPECT_EQ(usage.failures, 1);
}

}  // namespace
}  // namespace b2b::dialog
