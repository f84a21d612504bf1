// Tests for transaction_manager: matching, retransmission, ACK/CANCEL/100 generation, bad input,
// transport failures, over the loopback transport and the manual clock.
#include "sip/transaction/transaction_manager.hpp"

#include "sip/message/random.hpp"
#include "sip/message/writer.hpp"
#include "tests/fakes/loopback_transport.hpp"
#include "tests/fakes/manual_timer_service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace b2b::sip {
namespace {

using namespace std::chrono_literals;

// Test helpers ---------------------------------------------------------------------------------

message parse(std::string_view bytes) {
    auto m = parse_message(bytes);
    EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().what()) << "\n" << bytes;
    return m ? std::move(*m) : message{};
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string rfc4475(std::string_view name) {
    return read_file(std::string(B2B_SHARED_DIR "/testdata/rfc4475/") + std::string(name));
}

/// A request as a peer would send it. Plain text so that tests say exactly what is on the wire.
struct request_spec {
    std::string method = "INVITE";
    std::string uri = "sip:bob@example.com";
    std::string transport = "UDP";
    std::string sent_by = "127.0.0.1:5070";
    std::string branch = "z9hG4bKpeer1";  // empty: an RFC 2543 Via without branch
    std::string from_tag = "f1";
    std::string to_tag;
    std::string call_id = "call-1@example.com";
    unsigned cseq = 1;
    std::string cseq_method;  // defaults to `method`
    std::string extra;        // more header lines, each ending in CRLF

    std::string str() const {
        std::string s = method + " " + uri + " SIP/2.0\r\n";
        s += "Via: SIP/2.0/" + transport + " " + sent_by;
        if (!branch.empty()) {
            s += ";branch=" + branch;
        }
        s += "\r\nMax-Forwards: 70\r\n";
        s += "From: <sip:alice@example.com>;tag=" + from_tag + "\r\n";
        s += "To: <sip:bob@example.com>";
        if (!to_tag.empty()) {
            s += ";tag=" + to_tag;
        }
        s += "\r\nCall-ID: " + call_id + "\r\n";
        s += "CSeq: " + std::to_string(cseq) + " " + (cseq_method.empty() ? method : cseq_method) + "\r\n";
        s += extra;
        s += "Content-Length: 0\r\n\r\n";
        return s;
    }
};

/// A response to `request_bytes` as the peer would write it.
std::string response_to(std::string_view request_bytes, int status, std::string_view to_tag = "peer-tag") {
    const message req = parse(request_bytes);
    return response_writer(req, status, {}, status == 100 ? std::string_view{} : to_tag).finish();
}

/// What the TU saw, in order.
class recording_user final : public transaction_user {
public:
    struct request_seen {
        transaction_id id;
        message msg;
        flow from;
    };

    void on_request(transaction_id txn, message&& request, const flow& f) override {
        requests.push_back({txn, std::move(request), f});
        ++calls;
        if (on_request_hook) {
            on_request_hook(txn, requests.back().msg);
        }
    }
    void on_ack(message&& ack, const flow&) override {
        acks.push_back(std::move(ack));
        ++calls;
    }
    /// A response handler for one client transaction that records into this user.
    response_handler handler() {
        return [this](client_event& ev) {
            if (ev.response != nullptr) {
                responses.emplace_back(ev.txn, std::move(*ev.response));
            } else {
                client_failures.emplace_back(ev.txn, *ev.failure);
            }
            ++calls;
        };
    }
    void on_server_failure(transaction_id txn, transaction_failure why) override {
        server_failures.emplace_back(txn, why);
        ++calls;
    }

    /// Final responses (>= 200) delivered for `txn`.
    int finals_for(transaction_id txn) const {
        int n = 0;
        for (const auto& [id, m] : responses) {
            n += id == txn && m.status() >= 200;
        }
        return n;
    }

    std::vector<request_seen> requests;
    std::vector<message> acks;
    std::vector<std::pair<transaction_id, message>> responses;
    std::vector<std::pair<transaction_id, transaction_failure>> client_failures;
    std::vector<std::pair<transaction_id, transaction_failure>> server_failures;
    int calls = 0;
    std::function<void(transaction_id, const message&)> on_request_hook;
};

class counting_observer final : public transaction_observer {
public:
    void on_received(const message&) override { ++received; }
    void on_sent_request(method, std::string_view text) override { sent_requests.emplace_back(text); }
    void on_sent_response(int status) override { sent_responses.push_back(status); }
    void on_parse_error(const parse_error& e, const flow&, bool answered) override {
        parse_errors.push_back(e.code);
        answered_errors += answered;
    }
    void on_retransmission(bool by_us) override { (by_us ? retransmitted : absorbed) += 1; }
    void on_unmatched_response(const message&) override { ++unmatched; }
    // The manager reports changes; the totals they add up to are what the tests read.
    void on_transaction_count(bool client, int delta) override {
        auto& n = client ? clients : servers;
        ASSERT_TRUE(delta == 1 || delta == -1);
        ASSERT_TRUE(delta > 0 || n > 0) << "more ended than began";
        n = static_cast<std::size_t>(static_cast<long>(n) + delta);
        counts.emplace_back(clients, servers);
    }
    std::size_t clients = 0;
    std::size_t servers = 0;
    void on_transaction_limit() override { ++limit_hits; }

    int received = 0;
    int limit_hits = 0;
    std::vector<std::string> sent_requests;
    std::vector<int> sent_responses;
    std::vector<errc> parse_errors;
    int answered_errors = 0;
    int retransmitted = 0;
    int absorbed = 0;
    int unmatched = 0;
    std::vector<std::pair<std::size_t, std::size_t>> counts;  // (clients, servers) after each change
};

const endpoint our_end{boost::asio::ip::make_address("127.0.0.1"), 5060};
const endpoint peer_end{boost::asio::ip::make_address("127.0.0.1"), 5070};

class manager_test : public testing::Test {
protected:
    manager_test() { net.set_user(&mgr); }

    flow udp_flow() const { return {transport_kind::udp, our_end, peer_end, 0}; }
    flow tcp_flow(std::uint64_t connection = 7) const {
        return {transport_kind::tcp, our_end, peer_end, connection};
    }

    /// The peer sends `bytes` to us over `f` (UDP by default).
    void peer_sends(std::string_view bytes) { net.inject(bytes, udp_flow()); }
    void peer_sends(std::string_view bytes, const flow& f) {
        net.inject(bytes, f, f.reliable() ? framing::stream : framing::datagram);
    }

    /// An outgoing request of ours, with a fresh branch from the manager.
    message our_request(std::string_view method = "INVITE", std::string_view extra = {},
                        std::string_view transport = "UDP") {
        request_spec r;
        r.method = std::string(method);
        r.branch = mgr.make_branch();
        r.sent_by = "127.0.0.1:5060";
        r.transport = std::string(transport);
        r.extra = std::string(extra);
        return parse(r.str());
    }

    std::size_t sent_count() const { return net.sent().size(); }
    const std::string& last_sent() const { return net.sent().back().bytes; }
    message last_sent_message() const { return parse(last_sent()); }

    test::manual_timer_service clock;
    test::loopback_transport net{our_end};
    recording_user tu;
    counting_observer obs;
    transaction_manager mgr{net, clock, tu, {}, &obs};
};

TEST(transaction_manager_worker, its_branches_name_its_worker) {
    test::manual_timer_service clock;
    test::loopback_transport net{our_end};
    recording_user tu;
    transaction_config c;
    c.worker = 2;
    transaction_manager mgr{net, clock, tu, c};
    for (int i = 0; i < 20; ++i) EXPECT_EQ(token_worker(mgr.make_branch()), 2);
}

TEST_F(manager_test, a_message_checked_by_one_manager_is_received_by_another) {
    // Several workers: the reading loop checks, the owner receives.
    test::manual_timer_service other_clock;
    test::loopback_transport other_net{our_end};
    recording_user other_tu;
    transaction_manager owner{other_net, other_clock, other_tu};
    auto m = mgr.check(request_spec{}.str(), udp_flow(), framing::datagram);
    ASSERT_TRUE(m);
    owner.receive(std::move(*m), udp_flow());
    EXPECT_TRUE(tu.requests.empty());
    ASSERT_EQ(other_tu.requests.size(), 1U);
    EXPECT_EQ(owner.size(), 1U);
    EXPECT_EQ(mgr.size(), 0U);
    // What fails the checks is counted by the manager that checked it, and goes no further.
    EXPECT_FALSE(mgr.check("INVITE sip:x SIP/2.0\r\n\r\n", udp_flow(), framing::datagram));
    EXPECT_EQ(obs.parse_errors.size(), 1U);
    EXPECT_EQ(mgr.size(), 0U);
}

// Server transactions --------------------------------------------------------------------------

TEST_F(manager_test, silent_tu_gets_100_trying_sent_for_it) {
    request_spec r;
    peer_sends(r.str());
    ASSERT_EQ(tu.requests.size(), 1U);
    EXPECT_EQ(tu.requests[0].msg.method(), method::invite);
    EXPECT_EQ(tu.requests[0].from, udp_flow());
    EXPECT_EQ(mgr.size(), 1U);

    ASSERT_EQ(sent_count(), 1U);
    EXPECT_EQ(net.sent()[0].flow, udp_flow());  // back to the source address and port
    const message trying = last_sent_message();
    EXPECT_EQ(trying.status(), 100);
    EXPECT_TRUE(trying.to().tag.empty());  // §8.2.6.1: no To tag on a 100
    ASSERT_EQ(trying.vias().size(), 1U);
    EXPECT_EQ(trying.vias()[0].branch, "z9hG4bKpeer1");
    EXPECT_EQ(trying.cseq().method, method::invite);
    EXPECT_EQ(obs.sent_responses, (std::vector<int>{100}));
}

TEST_F(manager_test, tu_answering_inside_on_request_suppresses_100_trying) {
    tu.on_request_hook = [&](transaction_id id, const message& m) {
        EXPECT_FALSE(mgr.respond(id, 180, response_writer(m, 180, {}, "t1").finish()));
    };
    peer_sends(request_spec{}.str());
    ASSERT_EQ(sent_count(), 1U);
    EXPECT_EQ(last_sent_message().status(), 180);
}

TEST_F(manager_test, responses_go_back_on_the_requests_connection) {
    request_spec r;
    r.transport = "TCP";
    peer_sends(r.str(), tcp_flow(9));
    ASSERT_EQ(tu.requests.size(), 1U);
    EXPECT_EQ(tu.requests[0].from, tcp_flow(9));
    ASSERT_EQ(sent_count(), 1U);
    EXPECT_EQ(net.sent()[0].flow, tcp_flow(9));  // the 100 Trying
    mgr.respond(tu.requests[0].id, 603, response_writer(tu.requests[0].msg, 603, {}, "d").finish());
    ASSERT_EQ(sent_count(), 2U);
    EXPECT_EQ(net.sent()[1].flow, tcp_flow(9));
    clock.advance(10s);
    EXPECT_EQ(sent_count(), 2U);  // no Timer G over TCP
}

TEST_F(manager_test, non_invite_request_gets_no_100_trying) {
    request_spec r;
    r.method = "OPTIONS";
    peer_sends(r.str());
    EXPECT_EQ(tu.requests.size(), 1U);
    EXPECT_EQ(sent_count(), 0U);
}

TEST_F(manager_test, retransmitted_request_is_absorbed_and_last_response_re_sent) {
    request_spec r;
    r.method = "OPTIONS";
    peer_sends(r.str());
    peer_sends(r.str());  // before any response: absorbed, nothing to repeat
    ASSERT_EQ(tu.requests.size(), 1U);
    EXPECT_EQ(sent_count(), 0U);

    const std::string ok = response_writer(tu.requests[0].msg, 200, {}, "t9").finish();
    EXPECT_FALSE(mgr.respond(tu.requests[0].id, 200, ok));
    ASSERT_EQ(sent_count(), 1U);
    peer_sends(r.str());
    peer_sends(r.str());
    EXPECT_EQ(tu.requests.size(), 1U);
    ASSERT_EQ(sent_count(), 3U);
    EXPECT_EQ(net.sent_bytes(1), ok);
    EXPECT_EQ(net.sent_bytes(2), ok);
    EXPECT_EQ(obs.absorbed, 3);
    EXPECT_EQ(obs.retransmitted, 2);

    clock.advance(32s);  // Timer J
    EXPECT_EQ(mgr.size(), 0U);
    EXPECT_EQ(clock.pending(), 0U);
    peer_sends(r.str());  // after J: a new transaction
    EXPECT_EQ(tu.requests.size(), 2U);
}

TEST_F(manager_test, same_branch_from_another_sent_by_is_another_transaction) {
    request_spec r;
    r.method = "OPTIONS";
    peer_sends(r.str());
    r.sent_by = "192.0.2.7:5070";
    peer_sends(r.str());
    EXPECT_EQ(tu.requests.size(), 2U);
    EXPECT_EQ(mgr.size(), 2U);
}

TEST_F(manager_test, sent_by_matching_ignores_host_case_and_default_port) {
    request_spec r;
    r.method = "OPTIONS";
    r.sent_by = "PBX.example.com";
    peer_sends(r.str());
    r.sent_by = "pbx.EXAMPLE.com:5060";
    peer_sends(r.str());
    EXPECT_EQ(tu.requests.size(), 1U);
}

TEST_F(manager_test, invite_server_non_2xx_retransmits_until_ack_then_timer_i) {
    request_spec r;
    peer_sends(r.str());
    const transaction_id id = tu.requests.at(0).id;
    ASSERT_FALSE(mgr.respond(id, 486, response_writer(tu.requests[0].msg, 486, {}, "u1").finish()));
    EXPECT_EQ(mgr.respond(id, 200, "SIP/2.0 200 OK\r\n\r\n"), transaction_errc::final_response_sent);
    const std::size_t after_final = sent_count();  // 100 Trying + 486
    EXPECT_EQ(after_final, 2U);
    clock.advance(2s);  // G at 0.5 s and 1.5 s
    EXPECT_EQ(sent_count(), 4U);
    EXPECT_EQ(last_sent_message().status(), 486);

    request_spec ack = r;
    ack.method = "ACK";
    ack.to_tag = "u1";
    peer_sends(ack.str());
    EXPECT_TRUE(tu.acks.empty());  // the ACK for a non-2xx stays in the transaction
    peer_sends(ack.str());         // retransmitted ACK: absorbed in Confirmed
    clock.advance(4s);
    EXPECT_EQ(sent_count(), 4U);   // G stopped
    EXPECT_EQ(mgr.size(), 1U);
    clock.advance(1s);             // Timer I = T4
    EXPECT_EQ(mgr.size(), 0U);
    EXPECT_TRUE(tu.server_failures.empty());
    EXPECT_EQ(clock.pending(), 0U);
}

// A challenge answered statelessly (Kamailio sl_send_reply): one response per request, no
// state, no retransmission; the client's retransmission is a new request, its ACK a stray.
TEST_F(manager_test, a_stateless_answer_holds_no_state_and_is_sent_once_per_request) {
    request_spec r;
    tu.on_request_hook = [&](transaction_id id, const message& m) {
        const auto bytes = response_writer(m, 407, "Proxy Authentication Required", "s1").finish();
        EXPECT_FALSE(mgr.respond_stateless(id, 407, bytes));
        // Gone already: nothing more can be sent on it.
        EXPECT_EQ(mgr.respond(id, 500, "SIP/2.0 500 x\r\n\r\n"), transaction_errc::unknown_transaction);
    };
    peer_sends(r.str());
    ASSERT_EQ(tu.requests.size(), 1U);
    EXPECT_EQ(mgr.size(), 0U);
    EXPECT_EQ(clock.pending(), 0U);  // no Timer G, H or anything else
    ASSERT_EQ(sent_count(), 1U);     // the 407 only: no 100 Trying either
    EXPECT_EQ(last_sent_message().status(), 407);
    EXPECT_EQ(net.sent()[0].flow, udp_flow());
    EXPECT_EQ(obs.sent_responses, (std::vector<int>{407}));
    // It existed only while the TU decided, inside the call that delivered the request.
    EXPECT_EQ(obs.counts, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 1}, {0, 0}}));

    clock.advance(64s);  // what Timers G and H would have covered: nothing more goes out
    EXPECT_EQ(sent_count(), 1U);
    EXPECT_TRUE(tu.server_failures.empty());

    // The client did not get it and retransmits: the TU hears the request again, answers again.
    peer_sends(r.str());
    EXPECT_EQ(tu.requests.size(), 2U);
    EXPECT_EQ(sent_count(), 2U);
    EXPECT_EQ(mgr.size(), 0U);

    // The ACK for the 407 matches nothing: the TU gets it as a stray; nothing is sent.
    request_spec ack = r;
    ack.method = "ACK";
    ack.to_tag = "s1";
    peer_sends(ack.str());
    EXPECT_EQ(tu.acks.size(), 1U);
    EXPECT_EQ(sent_count(), 2U);
    EXPECT_EQ(mgr.size(), 0U);
}

TEST_F(manager_test, a_stateless_answer_is_final_and_never_2xx) {
    request_spec r;
    r.method = "OPTIONS";
    peer_sends(r.str());
    const transaction_id id = tu.requests.at(0).id;
    const message& m = tu.requests[0].msg;
    // A 2xx needs the transaction (an INVITE's is retransmitted until ACKed); so does a 1xx.
    EXPECT_EQ(mgr.respond_stateless(id, 200, response_writer(m, 200, {}, "a").finish()), transaction_errc::bad_status);
    EXPECT_EQ(mgr.respond_stateless(id, 180, response_writer(m, 180, {}, "a").finish()), transaction_errc::bad_status);
    EXPECT_EQ(mgr.respond_stateless(id + 100, 401, "SIP/2.0 401 x\r\n\r\n"), transaction_errc::unknown_transaction);
    EXPECT_EQ(mgr.size(), 1U);
    EXPECT_FALSE(mgr.respond_stateless(id, 401, response_writer(m, 401, "Unauthorized", "a").finish()));
    EXPECT_EQ(mgr.size(), 0U);
    EXPECT_EQ(sent_count(), 1U);
}

// security.server_header: by default nothing we send names a product; configured, every
// response carries Server and every request User-Agent, ours and the manager's own alike.
TEST_F(manager_test, no_product_header_unless_configured) {
    request_spec r;
    peer_sends(r.str());  // 100 Trying from the manager
    mgr.respond(tu.requests.at(0).id, 486, response_writer(tu.requests[0].msg, 486, {}, "b").finish());
    peer_sends("garbage that is no SIP\r\n\r\n");
    ASSERT_TRUE(mgr.send_request(our_request("OPTIONS"), udp_flow(), tu.handler()));
    for (const auto& s : net.sent()) {
        const message m = parse(s.bytes);
        EXPECT_EQ(m.find(header_id::server), nullptr) << s.bytes;
        EXPECT_EQ(m.find(header_id::user_agent), nullptr) << s.bytes;
    }
}

TEST_F(manager_test, a_configured_product_is_named_in_everything_sent) {
    test::loopback_transport wire{our_end};
    transaction_config config;
    config.server_header = "Acme SBC";
    transaction_manager named{wire, clock, tu, config};
    wire.set_user(&named);
    const auto from_peer = [&](std::string_view bytes) { wire.inject(bytes, udp_flow()); };

    request_spec r;
    from_peer(r.str());  // the manager's 100 Trying
    named.respond(tu.requests.at(0).id, 180, response_writer(tu.requests[0].msg, 180, {}, "b").finish());
    request_spec options;
    options.method = "OPTIONS";
    options.branch = "z9hG4bKpeer2";
    from_peer(options.str());
    named.respond_stateless(tu.requests.at(1).id, 401, response_writer(tu.requests[1].msg, 401, {}, "c").finish());
    from_peer(rfc4475("mismatch01.dat"));  // answered 400 by the manager itself

    request_spec mine;
    mine.branch = named.make_branch();
    mine.sent_by = "127.0.0.1:5060";
    const auto invite = named.send_request(parse(mine.str()), udp_flow(), tu.handler());
    ASSERT_TRUE(invite);
    wire.inject(response_writer(parse(mine.str()), 180, {}, "t").finish(), udp_flow());
    ASSERT_TRUE(named.cancel(*invite));  // CANCEL, built by the manager
    wire.inject(response_writer(parse(mine.str()), 487, {}, "t").finish(), udp_flow());  // ACK, by the manager
    ASSERT_FALSE(named.send_stateless(udp_flow(), "ACK sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\n"
                                                  "Content-Length: 0\r\n\r\n"));
    ASSERT_FALSE(named.send_stateless(udp_flow(), "\r\n\r\n"));  // a keep-alive stays a keep-alive
    // An ACK for a 2xx that the INVITE's transaction keeps, and sends again for its retransmission.
    request_spec accepted;
    accepted.branch = named.make_branch();
    accepted.sent_by = "127.0.0.1:5060";
    const auto second = named.send_request(parse(accepted.str()), udp_flow(), tu.handler());
    ASSERT_TRUE(second);
    const std::string ok = response_writer(parse(accepted.str()), 200, {}, "u").finish();
    wire.inject(ok, udp_flow());
    ASSERT_FALSE(named.send_ack_for_2xx(*second, "u", "ACK sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKb\r\n"
                                                      "Content-Length: 0\r\n\r\n", udp_flow()));
    wire.inject(ok, udp_flow());

    std::vector<std::string> seen;
    for (const auto& s : wire.sent()) {
        if (s.bytes == "\r\n\r\n") {
            seen.push_back("keep-alive");
            continue;
        }
        const message m = parse(s.bytes);
        const auto* named_by = m.find(m.is_request() ? header_id::user_agent : header_id::server);
        ASSERT_NE(named_by, nullptr) << s.bytes;
        EXPECT_EQ(named_by->value, "Acme SBC");
        EXPECT_EQ(m.values(m.is_request() ? header_id::user_agent : header_id::server).size(), 1U);
        seen.push_back(m.is_request() ? std::string(m.method_text()) : std::to_string(m.status()));
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"100", "180", "401", "400", "INVITE", "CANCEL", "ACK", "ACK",
                                              "keep-alive", "INVITE", "ACK", "ACK"}));
}

TEST_F(manager_test, invite_server_timer_h_reports_no_ack) {
    peer_sends(request_spec{}.str());
    const transaction_id id = tu.requests.at(0).id;
    mgr.respond(id, 404, response_writer(tu.requests[0].msg, 404, {}, "u1").finish());
    clock.advance(32s);
    ASSERT_EQ(tu.server_failures.size(), 1U);
    EXPECT_EQ(tu.server_failures[0], std::make_pair(id, transaction_failure::no_ack));
    EXPECT_EQ(mgr.size(), 0U);
    EXPECT_EQ(clock.pending(), 0U);
}

TEST_F(manager_test, invite_server_2xx_retransmits_until_ack_received) {
    tu.on_request_hook = [&](transaction_id id, const message& m) {
        mgr.respond(id, 200, response_writer(m, 200, {}, "u2").finish());
    };
    peer_sends(request_spec{}.str());
    const transaction_id id = tu.requests.at(0).id;
    EXPECT_EQ(sent_count(), 1U);  // the 200, no 100
    clock.advance(4s);            // 0.5, 1.5, 3.5
    EXPECT_EQ(sent_count(), 4U);

    request_spec ack;
    ack.method = "ACK";
    ack.branch = "z9hG4bKpeer-ack";  // §17.1.1.3: the ACK for a 2xx is a new transaction
    ack.to_tag = "u2";
    peer_sends(ack.str());
    ASSERT_EQ(tu.acks.size(), 1U);
    mgr.ack_received(id);
    clock.advance(20s);
    EXPECT_EQ(sent_count(), 4U);
    peer_sends(request_spec{}.str());  // INVITE retransmission in Accepted: absorbed
    EXPECT_EQ(sent_count(), 4U);
    EXPECT_EQ(tu.requests.size(), 1U);
    clock.advance(8s);  // Timer L
    EXPECT_EQ(mgr.size(), 0U);
    EXPECT_TRUE(tu.server_failures.empty());
    EXPECT_EQ(clock.pending(), 0U);
}

TEST_F(manager_test, invite_server_2xx_without_ack_reports_no_ack) {
    peer_sends(request_spec{}.str());
    const transaction_id id = tu.requests.at(0).id;
    mgr.respond(id, 200, response_writer(tu.requests[0].msg, 200, {}, "u2").finish());
    clock.advance(31999ms);
    EXPECT_TRUE(tu.server_failures.empty());
    clock.advance(1ms);
    ASSERT_EQ(tu.server_failures.size(), 1U);
    EXPECT_EQ(tu.server_failures[0].second, transaction_failure::no_ack);
    EXPECT_EQ(mgr.size(), 0U);
}

TEST_F(manager_test, respond_refuses_unknown_ids_and_bad_status) {
    EXPECT_EQ(mgr.respond(42, 200, "x"), transaction_errc::unknown_transaction);
    peer_sends(request_spec{}.str());
    const transaction_id id = tu.requests.at(0).id;
    EXPECT_EQ(mgr.respond(id, 99, "x"), transaction_errc::bad_status);
    EXPECT_EQ(mgr.respond(id, 700, "x"), transaction_errc::bad_status);
    auto client = mgr.send_request(our_request("OPTIONS"), udp_flow(), tu.handler());
    ASSERT_TRUE(client);
    EXPECT_EQ(mgr.respond(*client, 200, "x"), transaction_errc::unknown_transaction);
    mgr.ack_received(*client);  // wrong kind: ignored
    mgr.ack_received(12345);    // unknown: ignored
}

TEST_F(manager_test, unmatched_ack_goes_to_the_tu) {
    request_spec ack;
    ack.method = "ACK";
    ack.to_tag = "x";
    peer_sends(ack.str());
    EXPECT_EQ(tu.acks.size(), 1U);
    EXPECT_EQ(mgr.size(), 0U);
    EXPECT_EQ(sent_count(), 0U);
}

TEST_F(manager_test, cancel_is_its_own_transaction_and_finds_its_invite) {
    request_spec inv;
    peer_sends(inv.str());
    const transaction_id invite_id = tu.requests.at(0).id;

    request_spec cancel = inv;
    cancel.method = "CANCEL";
    peer_sends(cancel.str());
    ASSERT_EQ(tu.requests.size(), 2U);
    const message& c = tu.requests[1].msg;
    EXPECT_EQ(c.method(), method::cancel);
    EXPECT_NE(tu.requests[1].id, invite_id);
    ASSERT_TRUE(mgr.match_cancel(c));
    EXPECT_EQ(mgr.match_cancel(c)->txn, invite_id);
    EXPECT_FALSE(mgr.match_cancel(c)->answered);

    // Same branch from another sent-by, or another branch: no match.
    request_spec other = cancel;
    other.sent_by = "192.0.2.1:5070";
    EXPECT_FALSE(mgr.match_cancel(parse(other.str())));
    other = cancel;
    other.branch = "z9hG4bKsomething-else";
    EXPECT_FALSE(mgr.match_cancel(parse(other.str())));

    // Once the INVITE has its final response, there is nothing left to cancel: the CANCEL
    // still matches (it gets 200, §9.2), as an answered one.
    mgr.respond(invite_id, 487, response_writer(tu.requests[0].msg, 487, {}, "u3").finish());
    ASSERT_TRUE(mgr.match_cancel(c));
    EXPECT_TRUE(mgr.match_cancel(c)->answered);
}

TEST_F(manager_test, rfc2543_requests_match_without_branch) {
    request_spec inv;
    inv.branch.clear();
    peer_sends(inv.str());
    ASSERT_EQ(tu.requests.size(), 1U);
    const transaction_id id = tu.requests[0].id;
    EXPECT_EQ(sent_count(), 1U);  // 100 Trying

    peer_sends(inv.str());  // retransmission: the 100 again, nothing up
    EXPECT_EQ(tu.requests.size(), 1U);
    EXPECT_EQ(sent_count(), 2U);

    request_spec other_cseq = inv;
    other_cseq.cseq = 2;
    other_cseq.method = "OPTIONS";
    peer_sends(other_cseq.str());
    EXPECT_EQ(tu.requests.size(), 2U);

    request_spec cancel = inv;
    cancel.method = "CANCEL";
    ASSERT_TRUE(mgr.match_cancel(parse(cancel.str())));
    EXPECT_EQ(mgr.match_cancel(parse(cancel.str()))->txn, id);
    request_spec other_uri = cancel;
    other_uri.uri = "sip:carol@example.com";
    EXPECT_FALSE(mgr.match_cancel(parse(other_uri.str())));

    mgr.respond(id, 486, response_writer(tu.requests[0].msg, 486, {}, "our-tag").finish());
    const std::size_t before_ack = sent_count();

    // An ACK whose To tag is not the one we sent belongs to someone else.
    request_spec ack = inv;
    ack.method = "ACK";
    ack.to_tag = "not-ours";
    peer_sends(ack.str());
    EXPECT_EQ(tu.acks.size(), 1U);

    ack.to_tag = "our-tag";
    peer_sends(ack.str());
    EXPECT_EQ(tu.acks.size(), 1U);  // matched: Confirmed
    clock.advance(10s);
    EXPECT_EQ(sent_count(), before_ack);  // Timer G stopped by the ACK
    EXPECT_TRUE(tu.server_failures.empty());
}

TEST_F(manager_test, rfc2543_invite_from_rfc4475_is_handled) {
    peer_sends(rfc4475("inv2543.dat"));
    ASSERT_EQ(tu.requests.size(), 1U);
    peer_sends(rfc4475("inv2543.dat"));
    EXPECT_EQ(tu.requests.size(), 1U);
    EXPECT_EQ(sent_count(), 2U);  // 100 Trying, then again for the retransmission
}

// Bad input ------------------------------------------------------------------------------------

TEST_F(manager_test, malformed_request_gets_400_with_the_parser_reason) {
    const std::string bytes = rfc4475("badinv01.dat");
    peer_sends(bytes);
    EXPECT_TRUE(tu.requests.empty());
    EXPECT_EQ(mgr.size(), 0U);
    ASSERT_EQ(sent_count(), 1U);
    EXPECT_EQ(net.sent()[0].flow, udp_flow());
    ASSERT_EQ(obs.parse_errors.size(), 1U);
    EXPECT_EQ(obs.answered_errors, 1);

    // The reason phrase is the parser's own explanation. (The response copies the broken Via
    // as received, so it is checked as text: it does not parse either.)
    auto err = parse_message(bytes);
    const parse_error e = err ? validate_request(*err).error() : err.error();
    EXPECT_EQ(obs.parse_errors[0], e.code);
    const std::string& resp = last_sent();
    EXPECT_EQ(resp.substr(0, resp.find("\r\n")), "SIP/2.0 400 " + e.what());
    EXPECT_NE(resp.find("\r\nCall-ID: badinv01.0ha0isndaksdjasdf3234nas\r\n"), std::string::npos);
    EXPECT_NE(resp.find("\r\nTo: sip:j.user@example.com;tag="), std::string::npos);
    EXPECT_NE(resp.find("\r\nCSeq: 8 INVITE\r\n"), std::string::npos);
}

TEST_F(manager_test, unsupported_version_gets_505) {
    peer_sends(rfc4475("badvers.dat"));
    ASSERT_EQ(sent_count(), 1U);
    EXPECT_EQ(last_sent().substr(0, 12), "SIP/2.0 505 ");
    EXPECT_TRUE(tu.requests.empty());
}

TEST_F(manager_test, semantic_errors_get_400) {
    for (const char* name : {"mismatch01.dat", "insuf.dat", "scalar02.dat", "multi01.dat"}) {
        net.clear_sent();
        peer_sends(rfc4475(name));
        EXPECT_TRUE(tu.requests.empty()) << name;
        EXPECT_EQ(mgr.size(), 0U) << name;
        // insuf.dat lacks the headers a response needs: dropped instead.
        if (std::string_view(name) != "insuf.dat") {
            ASSERT_EQ(sent_count(), 1U) << name;
            EXPECT_EQ(last_sent().substr(0, 12), "SIP/2.0 400 ") << name;
        }
    }
}

TEST_F(manager_test, malformed_ack_is_never_answered) {
    std::string bytes = rfc4475("badinv01.dat");
    bytes.replace(0, 6, "ACK");  // request line
    bytes.replace(bytes.find("CSeq: 8 INVITE"), 14, "CSeq: 8 ACK");
    peer_sends(bytes);
    EXPECT_EQ(sent_count(), 0U);
    ASSERT_EQ(obs.parse_errors.size(), 1U);
    EXPECT_EQ(obs.answered_errors, 0);
    EXPECT_EQ(tu.calls, 0);

    // An ACK that parses but fails validation (CSeq method mismatch) is not answered either.
    request_spec ack;
    ack.method = "ACK";
    ack.cseq_method = "INVITE";
    peer_sends(ack.str());
    EXPECT_EQ(sent_count(), 0U);
    EXPECT_EQ(obs.parse_errors.size(), 2U);
}

TEST_F(manager_test, malformed_responses_are_dropped_and_counted) {
    for (const char* name : {"bigcode.dat", "scalarlg.dat"}) {
        peer_sends(rfc4475(name));
    }
    EXPECT_EQ(sent_count(), 0U);
    EXPECT_EQ(obs.parse_errors.size(), 2U);
    EXPECT_EQ(obs.answered_errors, 0);
    EXPECT_EQ(tu.calls, 0);
}

TEST_F(manager_test, every_rfc4475_message_is_survived) {
    // Whatever each message is, the manager must neither crash nor leave garbage behind it:
    // requests that parse reach the TU, which answers them, and all ends with the timers.
    tu.on_request_hook = [&](transaction_id id, const message& m) {
        mgr.respond(id, 501, response_writer(m, 501, {}, "x").finish());
    };
    const std::vector<std::string> names = {
        "wsinv.dat", "intmeth.dat", "esc01.dat", "escnull.dat", "esc02.dat", "lwsdisp.dat",
        "longreq.dat", "dblreq.dat", "semiuri.dat", "transports.dat", "mpart01.dat",
        "unreason.dat", "noreason.dat", "badinv01.dat", "clerr.dat", "ncl.dat", "scalar02.dat",
        "scalarlg.dat", "quotbal.dat", "ltgtruri.dat", "lwsruri.dat", "lwsstart.dat", "trws.dat",
        "escruri.dat", "baddate.dat", "regbadct.dat", "badaspec.dat", "baddn.dat", "badvers.dat",
        "mismatch01.dat", "mismatch02.dat", "bigcode.dat", "badbranch.dat", "insuf.dat",
        "unkscm.dat", "novelsc.dat", "unksm2.dat", "bext01.dat", "invut.dat", "regaut01.dat",
        "multi01.dat", "mcl01.dat", "bcast.dat", "zeromf.dat", "cparam01.dat", "cparam02.dat",
        "regescrt.dat", "sdp01.dat", "inv2543.dat", "test.dat"};
    for (const auto& name : names) {
        const std::string bytes = rfc4475(name);
        peer_sends(bytes);
        peer_sends(bytes, tcp_flow());
        mgr.on_framing_error(bytes, tcp_flow(), parse_error{errc::bad_content_length, "test"});
    }
    EXPECT_GT(tu.requests.size(), 10U);
    clock.advance(64s);
    EXPECT_EQ(mgr.size(), 0U);
    EXPECT_EQ(clock.pending(), 0U);
}

TEST_F(manager_test, framing_error_is_answered_on_the_connection) {
    const std::string bytes = rfc4475("ncl.dat");
    mgr.on_framing_error(bytes, tcp_flow(3), parse_error{errc::bad_content_length, "Content-Length: -999"});
    ASSERT_EQ(sent_count(), 1U);
    EXPECT_EQ(net.sent()[0].flow, tcp_flow(3));
    EXPECT_EQ(last_sent().substr(0, 12), "SIP/2.0 400 ");
    EXPECT_NE(last_sent().find("-999"), std::string::npos);
    EXPECT_EQ(obs.answered_errors, 1);
}

TEST_F(manager_test, garbage_is_dropped) {
    for (std::string_view junk : {std::string_view{}, std::string_view{"\r\n\r\n"},
                                  std::string_view{"hello"}, std::string_view{"\0\0\0", 3},
                                  std::string_view{"SIP/2.0 200 OK\r\n\r\n"}}) {
        peer_sends(junk);
    }
    EXPECT_EQ(sent_count(), 0U);
    EXPECT_EQ(tu.calls, 0);
    EXPECT_EQ(mgr.size(), 0U);
}

TEST_F(manager_test, client_and_server_transactions_are_counted_as_they_come_and_go) {
    using counts = std::vector<std::pair<std::size_t, std::size_t>>;
    request_spec inv;
    peer_sends(inv.str());  // a server INVITE transaction
    ASSERT_EQ(tu.requests.size(), 1U);
    auto out = mgr.send_request(our_request("OPTIONS"), udp_flow(), tu.handler());  // a client one
    ASSERT_TRUE(out);
    const std::string options = last_sent();
    EXPECT_EQ(mgr.server_count(), 1U);
    EXPECT_EQ(mgr.client_count(), 1U);
    EXPECT_EQ(obs.counts, (counts{{0, 1}, {1, 1}}));

    peer_sends(response_to(options, 200));  // Completed: Timer K (T4 over UDP) ends it
    mgr.respond(tu.requests[0].id, 486, response_writer(tu.requests[0].msg, 486, {}, "u1").finish());
    EXPECT_EQ(mgr.client_count(), 1U);
    clock.advance(6s);
    EXPECT_EQ(obs.counts.back(), std::make_pair(std::size_t{0}, std::size_t{1}));
    clock.advance(40s);  // no ACK: Timer H (64*T1) ends the INVITE server transaction
    EXPECT_EQ(mgr.client_count(), 0U);
    EXPECT_EQ(mgr.server_count(), 0U);
    ASSERT_EQ(obs.counts.size(), 4U);
    EXPECT_EQ(obs.counts.back(), std::make_pair(std::size_t{0}, std::size_t{0}));
}

// Client transactions --------------------------------------------------------------------------

TEST_F(manager_test, invite_client_retransmits_acks_non_2xx_and_re_acks) {
    auto id = mgr.send_request(our_request("INVITE", "Route: <sip:proxy.example.com;lr>\r\n"), udp_flow(), tu.handler());
    ASSERT_TRUE(id);
    ASSERT_EQ(sent_count(), 1U);
    const std::string invite = last_sent();
    EXPECT_EQ(net.sent()[0].flow, udp_flow());
    ASSERT_NE(mgr.client_request(*id), nullptr);
    EXPECT_EQ(mgr.client_request(*id)->wire(), invite);

    clock.advance(2s);  // A at 0.5 s and 1.5 s
    ASSERT_EQ(sent_count(), 3U);
    EXPECT_EQ(net.sent_bytes(1), invite);
    EXPECT_EQ(obs.retransmitted, 2);

    peer_sends(response_to(invite, 180));
    ASSERT_EQ(tu.responses.size(), 1U);
    EXPECT_EQ(tu.responses[0].first, *id);
    EXPECT_EQ(tu.responses[0].second.status(), 180);
    clock.advance(10s);
    EXPECT_EQ(sent_count(), 3U);

    const std::string busy = response_to(invite, 486, "callee-tag");
    peer_sends(busy);
    ASSERT_EQ(tu.responses.size(), 2U);
    EXPECT_EQ(tu.responses[1].second.status(), 486);
    ASSERT_EQ(sent_count(), 4U);

    // §17.1.1.3: the ACK for a non-2xx.
    const message ack = last_sent_message();
    const message req = parse(invite);
    EXPECT_EQ(ack.method(), method::ack);
    EXPECT_EQ(ack.request_uri().text, req.request_uri().text);
    ASSERT_EQ(ack.vias().size(), 1U);
    EXPECT_EQ(ack.vias()[0].text, req.vias()[0].text);
    EXPECT_EQ(ack.call_id(), req.call_id());
    EXPECT_EQ(ack.from().text, req.from().text);
    EXPECT_EQ(ack.to().tag, "callee-tag");
    EXPECT_EQ(ack.cseq().seq, req.cseq().seq);
    EXPECT_EQ(ack.cseq().method, method::ack);
    EXPECT_EQ(ack.max_forwards(), 70U);
    EXPECT_EQ(ack.content_length(), 0U);
    ASSERT_EQ(ack.routes().size(), 1U);
    EXPECT_EQ(ack.routes()[0].uri.host, "proxy.example.com");
    EXPECT_TRUE(validate_request(ack));
    // Completed keeps the ACK, not the INVITE: it is never sent again.
    EXPECT_EQ(mgr.size(), 1U);
    EXPECT_EQ(mgr.client_request(*id), nullptr);

    peer_sends(busy);  // the peer missed our ACK
    EXPECT_EQ(tu.responses.size(), 2U);
    ASSERT_EQ(sent_count(), 5U);
    EXPECT_EQ(net.sent_bytes(4), net.sent_bytes(3));

    EXPECT_EQ(obs.sent_requests, (std::vector<std::string>{"INVITE", "ACK"}));
    EXPECT_EQ(obs.retransmitted, 3);  // two INVITEs, one ACK
    EXPECT_EQ(obs.absorbed, 1);       // the retransmitted 486

    clock.advance(32s);  // Timer D
    EXPECT_EQ(mgr.size(), 0U);
    EXPECT_EQ(mgr.client_request(*id), nullptr);
    EXPECT_TRUE(tu.client_failures.empty());
    EXPECT_EQ(clock.pending(), 0U);
}

TEST_F(manager_test, invite_client_passes_every_2xx_in_accepted) {
    auto id = mgr.send_request(our_request(), udp_flow(), tu.handler());
    ASSERT_TRUE(id);
    const std::string invite = last_sent();
    const std::string ok = response_to(invite, 200);
    peer_sends(ok);
    peer_sends(ok);
    peer_sends(response_to(invite, 200, "another-fork"));
    ASSERT_EQ(tu.responses.size(), 3U);
    EXPECT_EQ(tu.finals_for(*id), 3);
    EXPECT_EQ(sent_count(), 1U);  // the TU ACKs 2xx itself (send_stateless)
    clock.advance(32s);           // Timer M
    EXPECT_EQ(mgr.size(), 0U);
    peer_sends(ok);  // after M: unmatched
    EXPECT_EQ(tu.responses.size(), 3U);
    EXPECT_EQ(obs.unmatched, 1);
}

// The TU's ACK for a 2xx is kept by the INVITE's transaction (RFC 6026 §7.2): each
// retransmission of that 2xx gets it again without reaching the TU; another fork's 2xx still
// does, and once its ACK is handed over, gets its own. Timer M ends it all.
TEST_F(manager_test, invite_client_repeats_the_tus_ack_for_each_2xx_retransmission) {
    auto id = mgr.send_request(our_request(), udp_flow(), tu.handler());
    ASSERT_TRUE(id);
    const std::string invite = last_sent();
    const std::string ok = response_to(invite, 200, "fork-a");
    peer_sends(ok);
    ASSERT_EQ(tu.finals_for(*id), 1);
    const flow contact_flow{transport_kind::udp, our_end, endpoint{boost::asio::ip::make_address("127.0.0.9"), 5099}, 0};
    const std::string ack_a = "ACK sip:a@127.0.0.9:5099 SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    EXPECT_FALSE(mgr.send_ack_for_2xx(*id, "fork-a", ack_a, contact_flow));
    ASSERT_EQ(sent_count(), 2U);
    EXPECT_EQ(last_sent(), ack_a);
    EXPECT_EQ(net.sent().back().flow.remote, contact_flow.remote);

    peer_sends(ok);
    peer_sends(ok);
    EXPECT_EQ(tu.finals_for(*id), 1);  // absorbed, answered
    ASSERT_EQ(sent_count(), 4U);
    EXPECT_EQ(last_sent(), ack_a);
    EXPECT_EQ(net.sent().back().flow.remote, contact_flow.remote);
    EXPECT_EQ(obs.sent_requests, (std::vector<std::string>{"INVITE", "ACK", "ACK", "ACK"}));

    const std::string other = response_to(invite, 200, "fork-b");
    peer_sends(other);
    EXPECT_EQ(tu.finals_for(*id), 2);  // not ACKed yet: the TU decides
    const std::string ack_b = "ACK sip:b@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    EXPECT_FALSE(mgr.send_ack_for_2xx(*id, "fork-b", ack_b, udp_flow()));
    peer_sends(other);
    peer_sends(ok);
    EXPECT_EQ(tu.finals_for(*id), 2);
    ASSERT_EQ(sent_count(), 7U);
    EXPECT_EQ(net.sent()[5].bytes, ack_b);
    EXPECT_EQ(net.sent()[6].bytes, ack_a);

    clock.advance(32s);  // Timer M: the transaction and its ACKs go
    EXPECT_EQ(mgr.size(), 0U);
    peer_sends(ok);
    EXPECT_EQ(sent_count(), 7U);
    // Past the transaction, the ACK is only sent.
    EXPECT_FALSE(mgr.send_ack_for_2xx(*id, "fork-a", ack_a, udp_flow()));
    EXPECT_EQ(sent_count(), 8U);
}

TEST_F(manager_test, invite_client_timer_b_reports_timeout_once) {
    auto id = mgr.send_request(our_request(), udp_flow(), tu.handler());
    ASSERT_TRUE(id);
    clock.advance(31999ms);
    EXPECT_TRUE(tu.client_failures.empty());
    EXPECT_EQ(sent_count(), 7U);  // 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s
    clock.advance(1ms);
    ASSERT_EQ(tu.client_failures.size(), 1U);
    EXPECT_EQ(tu.client_failures[0], std::make_pair(*id, transaction_failure::timeout));
    EXPECT_EQ(mgr.size(), 0U);
    EXPECT_EQ(clock.pending(), 0U);
    clock.advance(100s);
    EXPECT_EQ(tu.client_failures.size(), 1U);
}

TEST_F(manager_test, non_invite_client_over_tcp_does_not_retransmit) {
    auto id = mgr.send_request(our_request("OPTIONS", {}, "TCP"), tcp_flow(), tu.handler());
    ASSERT_TRUE(id);
    clock.advance(10s);
    EXPECT_EQ(sent_count(), 1U);
    peer_sends(response_to(last_sent(), 200), tcp_flow());
    EXPECT_EQ(tu.finals_for(*id), 1);
    EXPECT_EQ(mgr.size(), 0U);  // Timer K = 0
    EXPECT_EQ(clock.pending(), 0U);
}

TEST_F(manager_test, a_datagram_that_could_not_be_sent_is_retransmitted_like_a_lost_one) {
    net.fail_send_number(0);
    auto id = mgr.send_request(our_request("OPTIONS"), udp_flow(), tu.handler());
    ASSERT_TRUE(id);
    EXPECT_EQ(mgr.size(), 1U);  // not failed: UDP recovers by retransmission (§17.1.2.2)
    clock.advance(500ms);       // Timer E
    ASSERT_EQ(sent_count(), 1U);
    peer_sends(response_to(last_sent(), 200));
    EXPECT_EQ(tu.finals_for(*id), 1);
    EXPECT_TRUE(tu.client_failures.empty());
}

TEST_F(manager_test, a_response_that_could_not_be_sent_over_udp_is_sent_again_on_the_retransmission) {
    request_spec r;
    r.method = "BYE";
    r.to_tag = "t";
    peer_sends(r.str());
    const transaction_id id = tu.requests.at(0).id;
    net.fail_send_number(0);
    EXPECT_FALSE(mgr.respond(id, 200, response_writer(tu.requests[0].msg, 200, {}, "t").finish()));
    EXPECT_EQ(sent_count(), 0U);
    peer_sends(r.str());  // the peer retransmits its BYE: the 200 goes again (§17.2.2)
    ASSERT_EQ(sent_count(), 1U);
    EXPECT_EQ(last_sent_message().status(), 200);
    clock.advance(40s);
    EXPECT_TRUE(tu.server_failures.empty());
    EXPECT_EQ(mgr.size(), 0U);
}

TEST_F(manager_test, send_failure_is_reported_asynchronously) {
    net.fail_sends();
    auto id = mgr.send_request(our_request("INVITE", {}, "TCP"), tcp_flow(), tu.handler());
    ASSERT_TRUE(id);  // the transaction exists; its failure comes later
    EXPECT_EQ(tu.calls, 0);  // never re-entered from inside send_request
    EXPECT_EQ(mgr.size(), 0U);
    clock.advance(0ms);
    ASSERT_EQ(tu.client_failures.size(), 1U);
    EXPECT_EQ(tu.client_failures[0], std::make_pair(*id, transaction_failure::transport_error));
    EXPECT_EQ(clock.pending(), 0U);
}

TEST_F(manager_test, failed_final_response_is_reported_to_the_server_tu) {
    peer_sends(request_spec{}.str(), tcp_flow());
    const transaction_id id = tu.requests.at(0).id;
    net.fail_sends();
    EXPECT_FALSE(mgr.respond(id, 486, response_writer(tu.requests[0].msg, 486, {}, "x").finish()));
    EXPECT_TRUE(tu.server_failures.empty());  // not from inside respond()
    clock.advance(0ms);
    ASSERT_EQ(tu.server_failures.size(), 1U);
    EXPECT_EQ(tu.server_failures[0], std::make_pair(id, transaction_failure::transport_error));
    EXPECT_EQ(mgr.size(), 0U);
}

TEST_F(manager_test, send_request_refuses_ack_missing_branch_and_duplicates) {
    auto ack = mgr.send_request(our_request("ACK"), udp_flow(), tu.handler());
    EXPECT_EQ(ack.error(), transaction_errc::bad_request);

    request_spec no_branch;
    no_branch.branch.clear();
    EXPECT_EQ(mgr.send_request(parse(no_branch.str()), udp_flow(), tu.handler()).error(),
              transaction_errc::bad_request);
    no_branch.branch = "z9hG4bK";  // the cookie alone is no branch
    EXPECT_EQ(mgr.send_request(parse(no_branch.str()), udp_flow(), tu.handler()).error(),
              transaction_errc::bad_request);

    message first = our_request("OPTIONS");
    const std::string bytes(first.wire());
    ASSERT_TRUE(mgr.send_request(std::move(first), udp_flow(), tu.handler()));
    EXPECT_EQ(mgr.send_request(parse(bytes), udp_flow(), tu.handler()).error(),
              transaction_errc::duplicate_transaction);
    EXPECT_EQ(mgr.size(), 1U);
    EXPECT_EQ(sent_count(), 1U);
}

TEST_F(manager_test, unmatched_responses_are_dropped_and_counted) {
    auto id = mgr.send_request(our_request("OPTIONS"), udp_flow(), tu.handler());
    ASSERT_TRUE(id);
    const std::string req = last_sent();
    // Another branch, and the right branch with another method.
    request_spec other;
    other.method = "OPTIONS";
    other.branch = "z9hG4bKnot-ours";
    peer_sends(response_to(other.str(), 200));
    std::string wrong_method = response_to(req, 200);
    wrong_method.replace(wrong_method.find(" OPTIONS\r\n"), 10, " INFO\r\n");
    peer_sends(wrong_method);
    EXPECT_EQ(tu.calls, 0);
    EXPECT_EQ(obs.unmatched, 2);
    peer_sends(response_to(req, 200));
    EXPECT_EQ(tu.finals_for(*id), 1);
}

TEST_F(manager_test, closed_connection_fails_its_client_transactions) {
    auto on_7 = mgr.send_request(our_request("INVITE", {}, "TCP"), tcp_flow(7), tu.handler());
    auto on_8 = mgr.send_request(our_request("OPTIONS", {}, "TCP"), tcp_flow(8), tu.handler());
    ASSERT_TRUE(on_7 && on_8);
    mgr.on_flow_closed(udp_flow(), {});  // UDP has no connections: nothing happens
    net.close_flow(tcp_flow(7));
    clock.advance(0ms);
    ASSERT_EQ(tu.client_failures.size(), 1U);
    EXPECT_EQ(tu.client_failures[0], std::make_pair(*on_7, transaction_failure::transport_error));
    EXPECT_EQ(mgr.size(), 1U);
}

// RFC 3261 §18.1.1: a request whose connection is gone goes out on a new one to the next hop
// the TU named, in the same transaction (same bytes, same branch); its response comes back
// there.
TEST_F(manager_test, a_request_whose_connection_is_gone_goes_on_a_new_one_to_the_next_hop) {
    const endpoint contact{boost::asio::ip::make_address("127.0.0.9"), 5099};
    const flow old = tcp_flow(7);
    net.close_flow(old);
    auto id = mgr.send_request(our_request("BYE", {}, "TCP"), old, tu.handler(), contact);
    ASSERT_TRUE(id);
    ASSERT_EQ(sent_count(), 1U);
    const flow fresh = net.sent()[0].flow;
    EXPECT_EQ(fresh.transport, transport_kind::tcp);
    EXPECT_EQ(fresh.remote, contact);
    EXPECT_NE(fresh.connection, old.connection);
    EXPECT_EQ(net.failed_sends(), 1U);  // the try on the dead connection
    EXPECT_EQ(obs.sent_requests, (std::vector<std::string>{"BYE"}));
    peer_sends(response_to(last_sent(), 200), fresh);
    EXPECT_EQ(tu.finals_for(*id), 1);
    clock.advance(0ms);
    EXPECT_TRUE(tu.client_failures.empty());
    EXPECT_EQ(mgr.size(), 0U);
}

// RFC 5626 §5.3: with nowhere to reconnect to (a UA behind NAT), the request fails and the TU
// hears it, from a timer callback.
TEST_F(manager_test, a_request_on_a_gone_connection_with_nowhere_to_reconnect_fails) {
    net.close_flow(tcp_flow(7));
    auto id = mgr.send_request(our_request("BYE", {}, "TCP"), tcp_flow(7), tu.handler());
    ASSERT_TRUE(id);
    EXPECT_EQ(sent_count(), 0U);
    EXPECT_EQ(tu.calls, 0);
    clock.advance(0ms);
    ASSERT_EQ(tu.client_failures.size(), 1U);
    EXPECT_EQ(tu.client_failures[0], std::make_pair(*id, transaction_failure::transport_error));
    EXPECT_EQ(mgr.size(), 0U);
}

// A live connection is used as it is: the reconnect target is only for when it is gone.
TEST_F(manager_test, a_live_connection_is_kept_whatever_the_reconnect_target) {
    const endpoint contact{boost::asio::ip::make_address("127.0.0.9"), 5099};
    ASSERT_TRUE(mgr.send_request(our_request("OPTIONS", {}, "TCP"), tcp_flow(8), tu.handler(), contact));
    ASSERT_EQ(sent_count(), 1U);
    EXPECT_EQ(net.sent()[0].flow, tcp_flow(8));
}

// A CANCEL goes where its INVITE went, on the new connection.
TEST_F(manager_test, a_cancel_follows_its_invite_onto_the_new_connection) {
    const endpoint contact{boost::asio::ip::make_address("127.0.0.9"), 5099};
    net.close_flow(tcp_flow(7));
    auto id = mgr.send_request(our_request("INVITE", {}, "TCP"), tcp_flow(7), tu.handler(), contact);
    ASSERT_TRUE(id);
    const flow fresh = net.sent().back().flow;
    peer_sends(response_to(last_sent(), 180), fresh);
    ASSERT_TRUE(mgr.cancel(*id));
    EXPECT_TRUE(last_sent().starts_with("CANCEL "));
    EXPECT_EQ(net.sent().back().flow, fresh);
}

// RFC 3261 §18.2.2: a response whose connection is gone goes on a new connection to the
// address in `received` (the source) and the port of the sent-by, 5060 without one; rport
// (RFC 3581 §4) is for unreliable transports and a dead connection's source port is no use.
TEST_F(manager_test, a_response_whose_connection_is_gone_goes_to_the_via_sent_by) {
    request_spec r;
    r.method = "BYE";
    r.transport = "TCP";
    r.sent_by = "192.0.2.7:5099;rport";  // names another host: `received` is the source address
    peer_sends(r.str(), tcp_flow(9));
    const transaction_id bye = tu.requests.at(0).id;
    net.close_flow(tcp_flow(9));
    EXPECT_FALSE(mgr.respond(bye, 200, response_writer(tu.requests[0].msg, 200, {}, "x").finish()));
    ASSERT_EQ(sent_count(), 1U);
    EXPECT_EQ(net.sent()[0].flow.remote, (endpoint{peer_end.address, 5099}));
    EXPECT_NE(net.sent()[0].flow.connection, 9U);
    EXPECT_EQ(obs.sent_responses, (std::vector<int>{200}));
    clock.advance(0ms);
    EXPECT_TRUE(tu.server_failures.empty());

    request_spec no_port;
    no_port.transport = "TCP";
    no_port.method = "OPTIONS";
    no_port.branch = "z9hG4bKpeer2";
    no_port.sent_by = "pbx.example";
    peer_sends(no_port.str(), tcp_flow(10));
    net.close_flow(tcp_flow(10));
    EXPECT_FALSE(mgr.respond(tu.requests.at(1).id, 200, response_writer(tu.requests[1].msg, 200, {}, "y").finish()));
    ASSERT_EQ(sent_count(), 2U);
    EXPECT_EQ(net.sent()[1].flow.remote, (endpoint{peer_end.address, 5060}));
}

// The 2xx of an INVITE over TCP, its connection gone: it goes to the Via, and its
// retransmissions follow it there.
TEST_F(manager_test, a_2xx_whose_connection_is_gone_is_sent_and_retransmitted_on_the_new_one) {
    request_spec r;
    r.transport = "TCP";
    r.sent_by = "127.0.0.1:5077";
    peer_sends(r.str(), tcp_flow(9));
    const transaction_id invite = tu.requests.at(0).id;
    net.close_flow(tcp_flow(9));
    EXPECT_FALSE(mgr.respond(invite, 200, response_writer(tu.requests[0].msg, 200, {}, "x").finish()));
    const std::size_t before = sent_count();
    ASSERT_GE(before, 1U);
    const flow fresh = net.sent().back().flow;
    EXPECT_EQ(fresh.remote, (endpoint{peer_end.address, 5077}));
    clock.advance(500ms);
    ASSERT_GT(sent_count(), before);
    EXPECT_EQ(net.sent().back().flow, fresh);
    mgr.ack_received(invite);
}

TEST_F(manager_test, a_stateless_ack_whose_connection_is_gone_goes_to_the_reconnect_target) {
    const std::string bytes = "ACK sip:bob@127.0.0.9:5099;transport=tcp SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    const endpoint contact{boost::asio::ip::make_address("127.0.0.9"), 5099};
    net.close_flow(tcp_flow(7));
    EXPECT_TRUE(mgr.send_stateless(tcp_flow(7), bytes));  // nowhere to go
    EXPECT_FALSE(mgr.send_stateless(tcp_flow(7), bytes, contact));
    ASSERT_EQ(sent_count(), 1U);
    EXPECT_EQ(net.sent()[0].flow.remote, contact);
    EXPECT_NE(net.sent()[0].flow.connection, 7U);
}

TEST_F(manager_test, stateless_send_goes_straight_out) {
    const std::string bytes = "ACK sip:bob@192.0.2.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    EXPECT_FALSE(mgr.send_stateless(udp_flow(), bytes));
    ASSERT_EQ(sent_count(), 1U);
    EXPECT_EQ(last_sent(), bytes);
    EXPECT_EQ(obs.sent_requests, (std::vector<std::string>{"ACK"}));
    EXPECT_EQ(mgr.size(), 0U);
    net.fail_sends();
    EXPECT_TRUE(mgr.send_stateless(udp_flow(), bytes));
}

// CANCEL ---------------------------------------------------------------------------------------

TEST_F(manager_test, cancel_waits_for_a_provisional) {
    auto invite_id = mgr.send_request(
        our_request("INVITE", "Route: <sip:edge.example.com;lr>\r\n"), udp_flow(), tu.handler());
    ASSERT_TRUE(invite_id);
    const std::string invite = net.sent_bytes(0);
    auto cancel_id = mgr.cancel(*invite_id, "SIP;cause=200;text=\"Call completed elsewhere\"", tu.handler());
    ASSERT_TRUE(cancel_id);
    EXPECT_NE(*cancel_id, *invite_id);
    EXPECT_EQ(mgr.cancel(*invite_id, {}, tu.handler()), cancel_id);  // asking again names the same CANCEL
    EXPECT_EQ(sent_count(), 1U);  // §9.1: not before a provisional
    EXPECT_EQ(mgr.size(), 2U);

    clock.advance(600ms);  // one INVITE retransmission, still no CANCEL
    EXPECT_EQ(sent_count(), 2U);
    peer_sends(response_to(invite, 180));
    ASSERT_EQ(sent_count(), 3U);
    const message cancel = last_sent_message();
    const message req = parse(invite);
    EXPECT_EQ(cancel.method(), method::cancel);
    EXPECT_EQ(cancel.request_uri().text, req.request_uri().text);
    ASSERT_EQ(cancel.vias().size(), 1U);
    EXPECT_EQ(cancel.vias()[0].text, req.vias()[0].text);
    EXPECT_EQ(cancel.call_id(), req.call_id());
    EXPECT_EQ(cancel.from().text, req.from().text);
    EXPECT_EQ(cancel.to().text, req.to().text);
    EXPECT_EQ(cancel.cseq().seq, req.cseq().seq);
    EXPECT_EQ(cancel.cseq().method, method::cancel);
    ASSERT_EQ(cancel.routes().size(), 1U);
    ASSERT_NE(cancel.find(header_id::reason), nullptr);
    EXPECT_EQ(cancel.find(header_id::reason)->value, "SIP;cause=200;text=\"Call completed elsewhere\"");
    EXPECT_TRUE(validate_request(cancel));
    ASSERT_NE(mgr.client_request(*cancel_id), nullptr);
    EXPECT_EQ(mgr.client_request(*cancel_id)->method(), method::cancel);

    clock.advance(500ms);  // the CANCEL retransmits on Timer E
    EXPECT_EQ(last_sent_message().method(), method::cancel);
    const std::string cancel_bytes = last_sent();
    peer_sends(response_to(cancel_bytes, 200));
    EXPECT_EQ(tu.finals_for(*cancel_id), 1);
    peer_sends(response_to(invite, 487));
    EXPECT_EQ(tu.finals_for(*invite_id), 1);
    EXPECT_EQ(last_sent_message().method(), method::ack);
    clock.advance(40s);
    EXPECT_EQ(mgr.size(), 0U);
    EXPECT_TRUE(tu.client_failures.empty());
    EXPECT_EQ(clock.pending(), 0U);
}

TEST_F(manager_test, cancel_in_proceeding_goes_out_at_once) {
    auto invite_id = mgr.send_request(our_request(), udp_flow(), tu.handler());
    const std::string invite = last_sent();
    peer_sends(response_to(invite, 100));
    auto cancel_id = mgr.cancel(*invite_id, {}, tu.handler());
    ASSERT_TRUE(cancel_id);
    EXPECT_EQ(last_sent_message().method(), method::cancel);
    EXPECT_EQ(last_sent_message().find(header_id::reason), nullptr);
}

TEST_F(manager_test, cancel_without_final_gives_the_invite_up_after_64_t1) {
    auto invite_id = mgr.send_request(our_request(), udp_flow(), tu.handler());
    peer_sends(response_to(last_sent(), 180));
    clock.advance(100s);  // Proceeding can last
    EXPECT_TRUE(tu.client_failures.empty());
    auto cancel_id = mgr.cancel(*invite_id, {}, tu.handler());
    ASSERT_TRUE(cancel_id);
    peer_sends(response_to(last_sent(), 200));  // the CANCEL is answered, the INVITE is not
    clock.advance(32s);
    ASSERT_EQ(tu.client_failures.size(), 1U);
    EXPECT_EQ(tu.client_failures[0], std::make_pair(*invite_id, transaction_failure::timeout));
    EXPECT_EQ(mgr.size(), 0U);
}

TEST_F(manager_test, deferred_cancel_is_dropped_when_the_final_comes_first) {
    auto invite_id = mgr.send_request(our_request(), udp_flow(), tu.handler());
    const std::string invite = last_sent();
    auto cancel_id = mgr.cancel(*invite_id, {}, tu.handler());
    ASSERT_TRUE(cancel_id);
    peer_sends(response_to(invite, 486));
    EXPECT_EQ(last_sent_message().method(), method::ack);
    for (const auto& s : net.sent()) {
        EXPECT_EQ(s.bytes.find("CANCEL sip:"), std::string::npos);
    }
    EXPECT_EQ(mgr.size(), 1U);  // only the INVITE, in Completed
    EXPECT_EQ(mgr.client_request(*cancel_id), nullptr);
    EXPECT_FALSE(mgr.cancel(*invite_id, {}, tu.handler()));  // §9.1: nothing to cancel after a final
    clock.advance(32s);
    EXPECT_EQ(mgr.size(), 0U);
    EXPECT_EQ(clock.pending(), 0U);
}

TEST_F(manager_test, cancel_refused_after_final_or_for_non_invite) {
    auto invite_id = mgr.send_request(our_request(), udp_flow(), tu.handler());
    peer_sends(response_to(last_sent(), 200));
    EXPECT_FALSE(mgr.cancel(*invite_id, {}, tu.handler()));
    auto options_id = mgr.send_request(our_request("OPTIONS"), udp_flow(), tu.handler());
    EXPECT_FALSE(mgr.cancel(*options_id, {}, tu.handler()));
    EXPECT_FALSE(mgr.cancel(999, {}, tu.handler()));
}

// Branches -------------------------------------------------------------------------------------

TEST_F(manager_test, branches_are_unique_and_carry_the_cookie) {
    std::set<std::string> seen;
    for (int i = 0; i < 20000; ++i) {
        std::string b = mgr.make_branch();
        ASSERT_EQ(b.substr(0, 7), "z9hG4bK");
        ASSERT_GE(b.size(), 7U + 24U);  // 96 bits or more in hex
        ASSERT_TRUE(seen.insert(std::move(b)).second);
    }
    // Another manager does not repeat this one's branches.
    transaction_manager other{net, clock, tu};
    for (int i = 0; i < 1000; ++i) {
        ASSERT_FALSE(seen.contains(other.make_branch()));
    }
}

// Failure sweep (STYLE.md §6) ------------------------------------------------------------------

struct sweep_env {
    sweep_env() { net.set_user(&mgr); }

    test::manual_timer_service clock;
    test::loopback_transport net{our_end};
    recording_user tu;
    transaction_manager mgr{net, clock, tu};
};

flow flow_of(transport_kind kind) {
    return {kind, our_end, peer_end, kind == transport_kind::tcp ? 5U : 0U};
}

/// A whole INVITE client transaction (retransmissions, 180, final, retransmitted final, timers)
/// with send attempt `n` failing. The TU must hear exactly one outcome, and nothing may be left
/// behind. Returns false once the scenario makes fewer than n+1 sends (the sweep is done).
bool sweep_invite_client(std::size_t n, int final_status, transport_kind kind) {
    sweep_env env;
    env.net.fail_send_number(n);
    const flow f = flow_of(kind);
    request_spec r;
    r.branch = env.mgr.make_branch();
    r.sent_by = "127.0.0.1:5060";
    r.transport = std::string(to_string(kind));
    const std::string invite = r.str();
    auto id = env.mgr.send_request(parse(invite), f, env.tu.handler());
    EXPECT_TRUE(id);
    EXPECT_EQ(env.tu.calls, 0);
    env.clock.advance(1s);
    env.net.inject(response_to(invite, 180), f, f.reliable() ? framing::stream : framing::datagram);
    env.clock.advance(1s);
    const std::string final_response = response_to(invite, final_status);
    env.net.inject(final_response, f, f.reliable() ? framing::stream : framing::datagram);
    env.net.inject(final_response, f, f.reliable() ? framing::stream : framing::datagram);
    env.clock.advance(64s);

    const int finals = env.tu.finals_for(*id);
    const auto failures = env.tu.client_failures.size();
    EXPECT_EQ((finals > 0 ? 1U : 0U) + failures, 1U) << "finals " << finals;
    if (failures == 1) {
        EXPECT_EQ(env.tu.client_failures[0].second, transaction_failure::transport_error);
    }
    EXPECT_TRUE(env.tu.server_failures.empty());
    EXPECT_EQ(env.mgr.size(), 0U);
    EXPECT_EQ(env.clock.pending(), 0U);
    return n < env.net.send_attempts();
}

TEST(manager_sweep, invite_client_ends_cleanly_whichever_send_fails) {
    for (const int status : {486, 200}) {
        for (const auto kind : {transport_kind::udp, transport_kind::tcp}) {
            std::size_t n = 0;
            for (; n < 50; ++n) {
                SCOPED_TRACE(testing::Message() << "status " << status << " over "
                                                << to_string(kind) << ", send " << n << " fails");
                if (!sweep_invite_client(n, status, kind)) {
                    break;
                }
            }
            // The sweep went through every send: INVITE, its retransmission and the re-ACK
            // (UDP only: over TCP Timer D is zero), the ACK (non-2xx only).
            const bool udp = kind == transport_kind::udp;
            EXPECT_EQ(n, (udp ? 2U : 1U) + (status == 486 ? (udp ? 2U : 1U) : 0U));
            EXPECT_LT(n, 50U);
        }
    }
}

/// INVITE client with a deferred CANCEL: 180 releases it, the CANCEL is answered, then 487.
void sweep_invite_with_cancel(std::size_t n, bool& more) {
    sweep_env env;
    env.net.fail_send_number(n);
    const flow f = flow_of(transport_kind::udp);
    request_spec r;
    r.branch = env.mgr.make_branch();
    r.sent_by = "127.0.0.1:5060";
    const std::string invite = r.str();
    auto id = env.mgr.send_request(parse(invite), f, env.tu.handler());
    ASSERT_TRUE(id);
    // Over UDP a datagram that could not be sent is a lost one: the INVITE is still there
    // to cancel, and Timer A sends it again.
    const transaction_id cancel_id = env.mgr.cancel(*id, {}, env.tu.handler()).value_or(0);
    EXPECT_NE(cancel_id, 0U);
    env.clock.advance(600ms);
    env.net.inject(response_to(invite, 180), f);
    request_spec c = r;
    c.method = "CANCEL";
    env.net.inject(response_to(c.str(), 200), f);
    env.net.inject(response_to(invite, 487), f);
    env.clock.advance(64s);

    const auto invite_failures =
        std::count_if(env.tu.client_failures.begin(), env.tu.client_failures.end(),
                      [&](const auto& p) { return p.first == *id; });
    const auto cancel_failures =
        std::count_if(env.tu.client_failures.begin(), env.tu.client_failures.end(),
                      [&](const auto& p) { return p.first == cancel_id; });
    EXPECT_EQ((env.tu.finals_for(*id) > 0 ? 1 : 0) + invite_failures, 1);
    EXPECT_LE((env.tu.finals_for(cancel_id) > 0 ? 1 : 0) + cancel_failures, 1);
    EXPECT_EQ(env.mgr.size(), 0U);
    EXPECT_EQ(env.clock.pending(), 0U);
    more = n < env.net.send_attempts();
}

TEST(manager_sweep, invite_with_cancel_ends_cleanly_whichever_send_fails) {
    std::size_t n = 0;
    for (; n < 50; ++n) {
        SCOPED_TRACE(testing::Message() << "send " << n << " fails");
        bool more = false;
        sweep_invite_with_cancel(n, more);
        if (!more) {
            break;
        }
    }
    EXPECT_EQ(n, 4U);  // INVITE, its retransmission, CANCEL, ACK
    EXPECT_LT(n, 50U);
}

/// An INVITE server transaction: 100 Trying, 486, G retransmissions, ACK at 2 s.
bool sweep_invite_server(std::size_t n, transport_kind kind) {
    sweep_env env;
    env.net.fail_send_number(n);
    const flow f = flow_of(kind);
    const framing fr = f.reliable() ? framing::stream : framing::datagram;
    // A transaction that failed is gone, so a retransmitted INVITE starts a new one; the TU
    // rejects that one at once.
    env.tu.on_request_hook = [&](transaction_id id, const message& m) {
        if (env.tu.requests.size() > 1) {
            env.mgr.respond(id, 486, response_writer(m, 486, {}, "s1").finish());
        }
    };
    request_spec r;
    r.transport = std::string(to_string(kind));
    env.net.inject(r.str(), f, fr);
    EXPECT_EQ(env.tu.requests.size(), 1U);
    const transaction_id id = env.tu.requests.at(0).id;
    env.net.inject(r.str(), f, fr);  // retransmission: the 100 again
    env.mgr.respond(id, 486, response_writer(env.tu.requests[0].msg, 486, {}, "s1").finish());
    env.clock.advance(2s);
    request_spec ack = r;
    ack.method = "ACK";
    ack.to_tag = "s1";
    env.net.inject(ack.str(), f, fr);
    env.clock.advance(64s);

    EXPECT_LE(env.tu.requests.size(), 2U);
    for (const auto& req : env.tu.requests) {
        const auto failures =
            std::count_if(env.tu.server_failures.begin(), env.tu.server_failures.end(),
                          [&](const auto& p) { return p.first == req.id; });
        EXPECT_LE(failures, 1);
    }
    for (const auto& [fid, why] : env.tu.server_failures) {
        EXPECT_EQ(why, transaction_failure::transport_error);
    }
    EXPECT_EQ(env.mgr.size(), 0U);
    EXPECT_EQ(env.clock.pending(), 0U);
    return n < env.net.send_attempts();
}

TEST(manager_sweep, invite_server_ends_cleanly_whichever_send_fails) {
    for (const auto kind : {transport_kind::udp, transport_kind::tcp}) {
        std::size_t n = 0;
        for (; n < 50; ++n) {
            SCOPED_TRACE(testing::Message() << to_string(kind) << ", send " << n << " fails");
            if (!sweep_invite_server(n, kind)) {
                break;
            }
        }
        EXPECT_GE(n, 3U);
        EXPECT_LT(n, 50U);
    }
}

// Two linked managers --------------------------------------------------------------------------

TEST(manager_pair, uac_and_uas_over_linked_loopback_transports) {
    const endpoint a_end{boost::asio::ip::make_address("127.0.0.1"), 5061};
    const endpoint b_end{boost::asio::ip::make_address("127.0.0.1"), 5062};
    test::manual_timer_service clock;
    test::loopback_transport a_net{a_end};
    test::loopback_transport b_net{b_end};
    test::loopback_transport::link(a_net, b_net, &clock, 10ms);
    recording_user a_tu;
    recording_user b_tu;
    transaction_manager a{a_net, clock, a_tu};
    transaction_manager b{b_net, clock, b_tu};
    a_net.set_user(&a);
    b_net.set_user(&b);
    // The UAS rejects every INVITE after a while and answers OPTIONS at once.
    b_tu.on_request_hook = [&](transaction_id id, const message& m) {
        if (m.method() != method::invite) {
            b.respond(id, 200, response_writer(m, 200, {}, "b-tag").finish());
        }
    };

    auto f = a_net.flow_to(transport_kind::udp, b_end);
    ASSERT_TRUE(f);
    request_spec r;
    r.branch = a.make_branch();
    r.sent_by = a_end.to_string();
    auto invite_id = a.send_request(parse(r.str()), *f, a_tu.handler());
    ASSERT_TRUE(invite_id);
    clock.advance(100ms);
    ASSERT_EQ(b_tu.requests.size(), 1U);
    ASSERT_EQ(a_tu.responses.size(), 1U);
    EXPECT_EQ(a_tu.responses[0].second.status(), 100);  // the UAS core stayed silent

    b.respond(b_tu.requests[0].id, 603,
              response_writer(b_tu.requests[0].msg, 603, {}, "b-tag").finish());
    clock.advance(100ms);
    EXPECT_EQ(a_tu.finals_for(*invite_id), 1);
    // A's ACK reached B's server transaction and stopped Timer G there.
    const std::size_t b_sent = b_net.sent().size();
    clock.advance(5s);
    EXPECT_EQ(b_net.sent().size(), b_sent);
    EXPECT_TRUE(b_tu.acks.empty());

    request_spec o;
    o.method = "OPTIONS";
    o.branch = a.make_branch();
    o.sent_by = a_end.to_string();
    auto options_id = a.send_request(parse(o.str()), *f, a_tu.handler());
    clock.advance(20ms);
    EXPECT_EQ(a_tu.finals_for(*options_id), 1);

    clock.advance(64s);
    EXPECT_EQ(a.size(), 0U);
    EXPECT_EQ(b.size(), 0U);
    EXPECT_EQ(clock.pending(), 0U);
    EXPECT_TRUE(a_tu.client_failures.empty());
    EXPECT_TRUE(b_tu.server_failures.empty());
    EXPECT_EQ(a_net.queued() + b_net.queued(), 0U);
}

// The bound on transactions (transaction_config::max_transactions) -----------------------------

/// At most two transactions; INVITEs to "sip:112@..." always admitted (an emergency call).
class bounded_manager_test : public testing::Test {
protected:
    bounded_manager_test() { net.set_user(&mgr); }
    static transaction_config bounded() {
        transaction_config c;
        c.max_transactions = 2;
        c.retry_after = 7s;
        c.always_admit = [](const message& m) { return m.request_uri().user == "112"; };
        return c;
    }
    void peer_sends(std::string_view bytes) { net.inject(bytes, {transport_kind::udp, our_end, peer_end, 0}); }
    static std::string invite(int n, std::string uri = "sip:bob@example.com") {
        request_spec r;
        r.uri = std::move(uri);
        r.branch = "z9hG4bKbound" + std::to_string(n);
        r.call_id = "bound-" + std::to_string(n);
        return r.str();
    }

    test::manual_timer_service clock;
    test::loopback_transport net{our_end};
    recording_user tu;
    counting_observer obs;
    transaction_manager mgr{net, clock, tu, bounded(), &obs};
};

TEST_F(bounded_manager_test, a_new_invite_beyond_the_bound_gets_a_stateless_503_and_is_counted) {
    peer_sends(invite(1));
    peer_sends(invite(2));
    ASSERT_EQ(mgr.size(), 2U);
    ASSERT_EQ(tu.requests.size(), 2U);
    net.clear_sent();
    peer_sends(invite(3));
    EXPECT_EQ(tu.requests.size(), 2U);  // the TU never saw it
    EXPECT_EQ(mgr.size(), 2U);          // and it holds nothing
    ASSERT_EQ(net.sent().size(), 1U);
    const message refused = parse(net.sent().back().bytes);
    EXPECT_EQ(refused.status(), 503);
    EXPECT_FALSE(refused.to().tag.empty());
    ASSERT_NE(refused.find(header_id::retry_after), nullptr);
    EXPECT_EQ(refused.find(header_id::retry_after)->value, "7");
    EXPECT_EQ(obs.limit_hits, 1);
    // Its retransmission is refused again, statelessly.
    peer_sends(invite(3));
    EXPECT_EQ(net.sent().size(), 2U);
    EXPECT_EQ(obs.limit_hits, 2);
}

TEST_F(bounded_manager_test, beyond_the_bound_other_new_requests_are_dropped_but_in_dialog_ones_and_emergencies_pass) {
    peer_sends(invite(1));
    peer_sends(invite(2));
    net.clear_sent();
    request_spec options;
    options.method = "OPTIONS";
    options.branch = "z9hG4bKopt";
    peer_sends(options.str());
    EXPECT_TRUE(net.sent().empty());  // dropped: its sender retransmits
    EXPECT_EQ(obs.limit_hits, 1);
    request_spec bye;
    bye.method = "BYE";
    bye.branch = "z9hG4bKbye";
    bye.to_tag = "ours";
    bye.cseq = 2;
    peer_sends(bye.str());
    ASSERT_EQ(tu.requests.size(), 3U);
    EXPECT_EQ(tu.requests.back().msg.method(), method::bye);
    peer_sends(invite(4, "sip:112@example.com"));
    ASSERT_EQ(tu.requests.size(), 4U);
    EXPECT_EQ(tu.requests.back().msg.request_uri().user, "112");
    EXPECT_EQ(mgr.size(), 4U);
    EXPECT_EQ(obs.limit_hits, 1);
}

}  // namespace
}  // namespace b2b::sip
