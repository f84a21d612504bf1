// The owner of each message among several workers: responses and in-dialog requests follow the
// worker named in our tokens, answers to a challenge follow their nonce, the rest the Call-ID.
#include "b2bua/worker_dispatch.hpp"

#include "auth/nonce.hpp"
#include "sip/message/random.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace b2b::b2bua {
namespace {

using namespace std::chrono_literals;

const worker_dispatch::time_point t0{};

sip::message parse(const std::string& text) {
    auto m = sip::parse_message(text);
    EXPECT_TRUE(m) << text;
    return std::move(*m);
}

std::string request(std::string_view method, std::string_view call_id, std::string_view to_tag = {},
                    std::string_view extra = {}) {
    std::string s = std::string(method) + " sip:bob@192.0.2.1 SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-pbx-1\r\n"
                    "Max-Forwards: 70\r\n"
                    "From: <sip:alice@192.0.2.9>;tag=pbx-tag\r\n"
                    "To: <sip:bob@192.0.2.1>" +
                    (to_tag.empty() ? std::string() : ";tag=" + std::string(to_tag)) + "\r\n" +
                    "Call-ID: " + std::string(call_id) + "\r\n" + "CSeq: 2 " + std::string(method) + "\r\n" +
                    std::string(extra) + "Content-Length: 0\r\n\r\n";
    return s;
}

std::string response(std::string_view branch, std::string_view call_id) {
    return "SIP/2.0 200 OK\r\n"
           "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" + std::string(branch) + "\r\n"
           "From: <sip:alice@192.0.2.1>;tag=0123456789abcd01\r\n"
           "To: <sip:bob@192.0.2.7>;tag=trunk\r\n"
           "Call-ID: " + std::string(call_id) + "\r\n"
           "CSeq: 1 INVITE\r\n"
           "Content-Length: 0\r\n\r\n";
}

std::string credentials(std::string_view header, std::string_view nonce) {
    return std::string(header) + ": Digest username=\"100\", realm=\"pbx.local\", nonce=\"" + std::string(nonce) +
           "\", uri=\"sip:bob@192.0.2.1\", response=\"0123456789abcdef0123456789abcdef\"\r\n";
}

// A Call-ID whose hash lands on `worker`.
std::string call_id_on(std::size_t worker, std::size_t workers, std::string_view salt = "c") {
    for (int i = 0;; ++i) {
        std::string id = std::string(salt) + std::to_string(i) + "@pbx";
        if (call_id_hash(id) % workers == worker) return id;
    }
}

std::string nonce_of(std::uint8_t worker) {
    auth::nonce_options o;
    o.secret = "0123456789abcdef";
    o.worker = worker;
    auth::signed_nonce_service s(o);
    return s.issue(boost::asio::ip::make_address("192.0.2.9"), std::chrono::system_clock::now());
}

TEST(worker_dispatch, one_worker_owns_everything) {
    worker_dispatch d(1);
    EXPECT_EQ(d.owner(parse(request("INVITE", "a@b")), t0), 0u);
    EXPECT_EQ(d.owner(parse(response("z9hG4bK0123456789abcdef0123456789abcd05", "x")), t0), 0u);
}

TEST(worker_dispatch, new_dialogs_spread_by_call_id) {
    worker_dispatch d(4);
    std::set<std::size_t> seen;
    for (int i = 0; i < 200; ++i) {
        const std::string id = "call-" + std::to_string(i) + "@pbx";
        const auto w = d.owner(parse(request("INVITE", id)), t0);
        ASSERT_LT(w, 4u);
        EXPECT_EQ(w, call_id_hash(id) % 4);
        seen.insert(w);
    }
    EXPECT_EQ(seen.size(), 4u);
}

TEST(worker_dispatch, sequential_call_ids_spread_unevenly_as_random_ones_would) {
    // PBXs number their Call-IDs: the share of each worker must not follow a digit's parity.
    for (const std::size_t workers : {2u, 4u, 8u}) {
        std::vector<int> count(workers);
        for (int i = 0; i < 8000; ++i) ++count[call_id_hash(std::to_string(i) + "-4242@192.0.2.9") % workers];
        const double expected = 8000.0 / static_cast<double>(workers);
        for (const int c : count) EXPECT_NEAR(c, expected, expected * 0.1) << workers << " workers";
        std::vector<int> alternation(workers);
        for (int i = 0; i < 64; ++i) {
            const auto a = call_id_hash(std::to_string(2 * i) + "@pbx") % workers;
            const auto b = call_id_hash(std::to_string(2 * i + 1) + "@pbx") % workers;
            ++alternation[a == b ? 0 : 1];
        }
        EXPECT_GT(alternation[0], 0) << "consecutive Call-IDs never share a worker: the hash is a parity";
    }
}

TEST(worker_dispatch, responses_follow_our_branch) {
    worker_dispatch d(4);
    for (std::uint8_t w = 0; w < 4; ++w) {
        sip::token_source tokens(w);
        EXPECT_EQ(d.owner(parse(response(tokens.branch(), call_id_on((w + 1) % 4, 4))), t0), w);
    }
    // A branch that is not ours, or names a worker we do not run: the Call-ID decides.
    const std::string id = call_id_on(2, 4);
    EXPECT_EQ(d.owner(parse(response("z9hG4bK-someone-else", id)), t0), 2u);
    sip::token_source seventh(7);
    EXPECT_EQ(d.owner(parse(response(seventh.branch(), id)), t0), 2u);
}

TEST(worker_dispatch, in_dialog_requests_follow_our_tag) {
    worker_dispatch d(3);
    for (std::uint8_t w = 0; w < 3; ++w) {
        sip::token_source tokens(w);
        const std::string tag = tokens.tag();
        for (const auto* method : {"BYE", "ACK", "INFO", "INVITE", "UPDATE", "PRACK", "CANCEL"}) {
            EXPECT_EQ(d.owner(parse(request(method, call_id_on((w + 1) % 3, 3), tag)), t0), w) << method;
        }
    }
    EXPECT_EQ(d.owner(parse(request("BYE", call_id_on(1, 3), "not-ours")), t0), 1u);
}

TEST(worker_dispatch, registrations_go_to_the_registrar_worker) {
    worker_dispatch d(4);
    EXPECT_EQ(d.owner(parse(request("REGISTER", call_id_on(3, 4))), t0), 0u);
    EXPECT_EQ(d.owner(parse(request("REGISTER", call_id_on(2, 4), {}, credentials("Authorization", nonce_of(3)))), t0),
              0u);
}

TEST(worker_dispatch, an_answer_to_a_challenge_goes_to_the_nonce_worker_and_its_cancel_follows) {
    worker_dispatch d(4);
    const std::string id = call_id_on(1, 4);
    // The same Call-ID as the challenged INVITE: nonce and Call-ID agree, nothing to remember.
    EXPECT_EQ(d.owner(parse(request("INVITE", id, {}, credentials("Proxy-Authorization", nonce_of(1)))), t0), 1u);
    EXPECT_EQ(d.remembered(), 0u);
    // A PBX reusing its nonce on a new call (nc=2): the worker that knows the nonce's counts.
    EXPECT_EQ(d.owner(parse(request("INVITE", id, {}, credentials("Proxy-Authorization", nonce_of(3)))), t0), 3u);
    EXPECT_EQ(d.remembered(), 1u);
    EXPECT_EQ(d.owner(parse(request("CANCEL", id)), t0 + 1s), 3u) << "the CANCEL carries no credentials";
    EXPECT_EQ(d.owner(parse(request("ACK", id)), t0 + 1s), 3u);
    // Other methods by nonce too, but not remembered (no CANCEL follows them).
    EXPECT_EQ(d.owner(parse(request("MESSAGE", call_id_on(0, 4), {}, credentials("Authorization", nonce_of(2)))), t0),
              2u);
    EXPECT_EQ(d.remembered(), 1u);
    // 64*T1 later the INVITE transaction is long over: the memory is gone.
    EXPECT_EQ(d.owner(parse(request("CANCEL", id)), t0 + 33s), 1u);
    EXPECT_EQ(d.remembered(), 0u);
}

TEST(worker_dispatch, credentials_that_name_no_worker_fall_back_to_the_call_id) {
    worker_dispatch d(2);
    const std::string id = call_id_on(1, 2);
    EXPECT_EQ(d.owner(parse(request("INVITE", id, {}, credentials("Proxy-Authorization", "short"))), t0), 1u);
    EXPECT_EQ(d.owner(parse(request("INVITE", id, {}, credentials("Proxy-Authorization", nonce_of(5)))), t0), 1u);
    EXPECT_EQ(d.owner(parse(request("INVITE", id, {}, "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n")), t0), 1u);
}

TEST(worker_dispatch, the_memory_is_bounded) {
    worker_dispatch d(2, 32s, 10);
    for (int i = 0; i < 100; ++i) {
        const std::string id = call_id_on(0, 2, "m" + std::to_string(i));
        d.owner(parse(request("INVITE", id, {}, credentials("Proxy-Authorization", nonce_of(1)))), t0);
    }
    EXPECT_LE(d.remembered(), 10u);
}

TEST(worker_dispatch, refuses_impossible_counts) {
    EXPECT_THROW(worker_dispatch(0), std::invalid_argument);
    EXPECT_THROW(worker_dispatch(257), std::invalid_argument);
}

}  // namespace
}  // namespace b2b::b2bua
