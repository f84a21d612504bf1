// Test scaffolding: the B2BUA core on a loopback transport and a manual clock, with a scripted
// PBX and a scripted trunk that send and expect messages like the two ends of a ladder diagram.
#pragma once

#include "auth/algorithm.hpp"
#include "auth/client.hpp"
#include "auth/digest_header.hpp"
#include "b2bua/b2bua_metrics.hpp"
#include "b2bua/config.hpp"
#include "b2bua/core.hpp"
#include "b2bua/downstream_auth.hpp"
#include "sip/message/message.hpp"
#include "sip/message/writer.hpp"
#include "sip/transaction/transaction_manager.hpp"
#include "tests/fakes/loopback_transport.hpp"
#include "tests/fakes/manual_timer_service.hpp"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <deque>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace b2b::b2bua::test {

inline sip::endpoint ep(const char* ip, std::uint16_t port) { return {boost::asio::ip::make_address(ip), port}; }

inline const char* test_config = R"(
sip:
  listen: [ "udp://127.0.0.1:5070" ]
downstream:
  realm: pbx.local
  algorithms: [ MD5, SHA-256 ]
  nonce_ttl_s: 60
  users:
    - { username: pbxuser, password: pbxpass }
upstream:
  trunks:
    - name: carrier
      uri: "sip:127.0.0.1:5080"
      username: trunkuser
      password: trunkpass
routes:
  - { prefix: "", trunk: carrier }
calls:
  max_ringing_s: 120
)";

/// The B2BUA as the process wires it, minus sockets and real time.
class call_flow : public ::testing::Test {
protected:
    const sip::endpoint pbx = ep("127.0.0.1", 5060);
    const sip::endpoint trunk = ep("127.0.0.1", 5080);

    ::b2b::test::manual_timer_service clock;
    ::b2b::test::loopback_transport net{ep("127.0.0.1", 5070)};
    config cfg = parse_config(test_config);
    prometheus::Registry registry;
    b2bua_metrics metrics{registry, cfg.downstream.realm, {"carrier"}};
    downstream_auth auth{cfg.downstream};
    core b2b{cfg, net, clock, metrics, auth};
    sip::transaction_manager txm{net, clock, b2b, sip::transaction_config{}, &metrics};

    call_flow() {
        b2b.attach(txm);
        net.set_user(&txm);
    }

    // ------------------------------------------------------------------ sending
    void from_pbx(const std::string& bytes) { net.inject_from(pbx, bytes); }
    void from_trunk(const std::string& bytes) { net.inject_from(trunk, bytes); }

    // ------------------------------------------------------------------ receiving
    /// Everything the B2BUA sent to `to` since the last call, parsed, in order.
    std::vector<sip::message> take(const sip::endpoint& to) {
        while (cursor_ < net.sent().size()) {
            const auto& s = net.sent()[cursor_++];
            auto m = sip::parse_message(s.bytes);
            EXPECT_TRUE(m.has_value()) << "the B2BUA sent something unparseable:\n" << s.bytes;
            if (!m) continue;
            auto v = m->is_request() ? sip::validate_request(*m) : sip::validate_response(*m);
            EXPECT_TRUE(v.has_value()) << "the B2BUA sent an invalid message (" << v.error().what() << "):\n"
                                       << s.bytes;
            inbox_[s.flow.remote.to_string()].push_back(std::move(*m));
        }
        auto& q = inbox_[to.to_string()];
        std::vector<sip::message> out;
        while (!q.empty()) {
            out.push_back(std::move(q.front()));
            q.pop_front();
        }
        return out;
    }

    /// Exactly one message was sent to `to`, with this start (method, or "SIP/2.0 <code>").
    sip::message expect_one(const sip::endpoint& to, const std::string& start) {
        auto got = take(to);
        std::string seen;
        for (auto& m : got) seen += std::string(first_line(m)) + " | ";
        EXPECT_EQ(got.size(), 1u) << "to " << to.to_string() << ": " << seen;
        if (got.empty()) return {};
        EXPECT_TRUE(starts(got.front(), start)) << "expected " << start << ", got " << first_line(got.front());
        return std::move(got.front());
    }

    /// Messages to `to` filtered by start; the rest is dropped.
    std::vector<sip::message> take_matching(const sip::endpoint& to, const std::string& start) {
        std::vector<sip::message> out;
        for (auto& m : take(to)) {
            if (starts(m, start)) out.push_back(std::move(m));
        }
        return out;
    }

    static std::string_view first_line(const sip::message& m) {
        auto w = m.wire();
        return w.substr(0, w.find("\r\n"));
    }
    static bool starts(const sip::message& m, const std::string& start) {
        return first_line(m).substr(0, start.size()) == start;
    }
    static std::string header(const sip::message& m, sip::header_id id) {
        const auto* h = m.find(id);
        return h ? std::string(h->value) : std::string();
    }

    double counter(const std::string& name, const std::map<std::string, std::string>& labels) {
        double total = 0;
        for (const auto& family : registry.Collect()) {
            if (family.name != name) continue;
            for (const auto& metric : family.metric) {
                bool match = true;
                for (const auto& [k, v] : labels) {
                    bool found = false;
                    for (const auto& l : metric.label) found = found || (l.name == k && l.value == v);
                    match = match && found;
                }
                if (match) total += family.type == prometheus::MetricType::Gauge ? metric.gauge.value : metric.counter.value;
            }
        }
        return total;
    }

    // ------------------------------------------------------------------ the scripted PBX
    struct pbx_call {
        std::string call_id = "pbx-call-1@10.0.0.1";
        std::string from_tag = "pbxtag1";
        std::string to_tag;  // learnt from the B2BUA's responses
        std::uint32_t cseq = 1;
        std::string branch;
    };

    std::string pbx_invite(pbx_call& c, const std::string& auth_header = {}, const std::string& dialled = "1000") {
        c.branch = "z9hG4bK-pbx-" + std::to_string(++branches_);
        sip::message_writer w;
        w.request_line("INVITE", "sip:" + dialled + "@127.0.0.1:5070");
        w.header("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=" + c.branch);
        w.header("From", "\"Reception\" <sip:200@10.0.0.1:5060>;tag=" + c.from_tag);
        w.header("To", "<sip:" + dialled + "@127.0.0.1:5070>");
        w.header("Call-ID", c.call_id);
        w.header("CSeq", std::to_string(c.cseq) + " INVITE");
        w.header("Contact", "<sip:200@127.0.0.1:5060>");
        w.header("Record-Route", "<sip:pbx-proxy.internal;lr>");
        w.header("Max-Forwards", "70");
        if (!auth_header.empty()) w.header("Proxy-Authorization", auth_header);
        return std::move(w).finish(sdp_offer, "application/sdp");
    }

    /// An out-of-dialog OPTIONS (a keep-alive probe), with extra header lines.
    std::string pbx_options(const std::vector<std::pair<std::string, std::string>>& extra = {}) {
        sip::message_writer w;
        w.request_line("OPTIONS", "sip:127.0.0.1:5070");
        w.header("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-opt-" + std::to_string(++branches_));
        w.header("From", "<sip:monitor@127.0.0.1>;tag=m" + std::to_string(branches_));
        w.header("To", "<sip:127.0.0.1:5070>");
        w.header("Call-ID", "opt-" + std::to_string(branches_));
        w.header("CSeq", "1 OPTIONS");
        for (const auto& [n, v] : extra) w.header(n, v);
        w.header("Max-Forwards", "70");
        return std::move(w).finish();
    }

    /// The ACK for a non-2xx answer to the INVITE (same branch, §17.1.1.3).
    std::string pbx_ack_failure(const pbx_call& c, const sip::message& response) {
        sip::message_writer w;
        w.request_line("ACK", "sip:1000@127.0.0.1:5070");
        w.header("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=" + c.branch);
        w.header("From", "\"Reception\" <sip:200@10.0.0.1:5060>;tag=" + c.from_tag);
        w.header("To", header(response, sip::header_id::to));
        w.header("Call-ID", c.call_id);
        w.header("CSeq", std::to_string(c.cseq) + " ACK");
        w.header("Max-Forwards", "70");
        return std::move(w).finish();
    }

    /// An in-dialog request from the PBX (ACK for the 2xx, BYE, ...): new branch.
    std::string pbx_in_dialog(pbx_call& c, const std::string& method, std::uint32_t cseq) {
        sip::message_writer w;
        w.request_line(method, "sip:b2bua@127.0.0.1:5070");
        w.header("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-pbx-" + std::to_string(++branches_));
        w.header("From", "\"Reception\" <sip:200@10.0.0.1:5060>;tag=" + c.from_tag);
        w.header("To", "<sip:1000@127.0.0.1:5070>;tag=" + c.to_tag);
        w.header("Call-ID", c.call_id);
        w.header("CSeq", std::to_string(cseq) + " " + method);
        w.header("Max-Forwards", "70");
        return std::move(w).finish();
    }

    std::string pbx_cancel(const pbx_call& c) {
        sip::message_writer w;
        w.request_line("CANCEL", "sip:1000@127.0.0.1:5070");
        w.header("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=" + c.branch);
        w.header("From", "\"Reception\" <sip:200@10.0.0.1:5060>;tag=" + c.from_tag);
        w.header("To", "<sip:1000@127.0.0.1:5070>");
        w.header("Call-ID", c.call_id);
        w.header("CSeq", std::to_string(c.cseq) + " CANCEL");
        w.header("Max-Forwards", "70");
        return std::move(w).finish();
    }

    /// The PBX's answer to a challenge, computed by our own digest client.
    static std::string answer_challenge(const sip::message& challenge, const std::string& user,
                                        const std::string& password, const std::string& uri) {
        const auto values = challenge.values(sip::header_id::proxy_authenticate);
        auto chosen = auth::select_challenge(values);
        EXPECT_TRUE(chosen.has_value());
        if (!chosen) return {};
        return auth::make_authorization(*chosen, {user, password}, "INVITE", uri, 1, "0a4f113b");
    }

    /// INVITE, 407, ACK, INVITE with credentials: returns the B2BUA's INVITE as the trunk sees it.
    sip::message authenticated_invite(pbx_call& c, const std::string& password = "pbxpass") {
        from_pbx(pbx_invite(c));
        auto challenge = expect_one(pbx, "SIP/2.0 407");
        from_pbx(pbx_ack_failure(c, challenge));
        ++c.cseq;
        from_pbx(pbx_invite(c, answer_challenge(challenge, "pbxuser", password, "sip:1000@127.0.0.1:5070")));
        if (password != "pbxpass") return {};
        auto got = take(pbx);  // a 100 Trying, nothing else
        EXPECT_EQ(got.size(), 1u);
        if (!got.empty()) {
            EXPECT_EQ(got.front().status(), 100);
        }
        return expect_one(trunk, "INVITE");
    }

    // ------------------------------------------------------------------ the scripted trunk
    std::string trunk_response(const sip::message& request, int status, const std::string& reason,
                               const std::vector<std::pair<std::string, std::string>>& extra = {},
                               const std::string& body = {}) {
        sip::message_writer w = sip::response_writer(request, status, reason, status > 100 ? "trunktag" : "");
        for (const auto& [n, v] : extra) w.header(n, v);
        return std::move(w).finish(body, body.empty() ? "" : "application/sdp");
    }

    std::string trunk_challenge(const sip::message& invite, bool stale = false) {
        return trunk_response(invite, 401, "Unauthorized",
                              {{"WWW-Authenticate", std::string("Digest realm=\"trunk.example\", nonce=\"n") +
                                                        std::to_string(++branches_) + "\", qop=\"auth\", algorithm=MD5" +
                                                        (stale ? ", stale=true" : "")}});
    }

    /// Checks the Authorization of a re-sent INVITE against trunkuser/trunkpass.
    static bool trunk_accepts(const sip::message& invite) {
        const auto* h = invite.find(sip::header_id::authorization);
        if (!h) return false;
        auto creds = auth::parse_credentials(h->value);
        if (!creds || creds->username != "trunkuser" || creds->realm != "trunk.example") return false;
        const auto alg = auth::algorithm::md5;
        const auto ha1 = auth::compute_ha1(alg, "trunkuser", "trunk.example", "trunkpass");
        const auto ha2 = auth::compute_ha2(alg, "INVITE", creds->uri);
        const auto expected =
            auth::compute_response(alg, {ha1, creds->nonce, creds->nc, creds->cnonce, creds->qop.value_or(""), ha2});
        return creds->uri == invite.request_uri().text && expected == creds->response;
    }

    std::string trunk_ok(const sip::message& invite) {
        return trunk_response(invite, 200, "OK",
                              {{"Contact", "<sip:gw7@127.0.0.1:5080>"},
                               {"Record-Route", "<sip:edge2.trunk.example;lr>, <sip:127.0.0.1:5080;lr>"}},
                              sdp_answer);
    }

    /// A request from the trunk in leg B's dialog (BYE, ...), given the INVITE it answered.
    std::string trunk_in_dialog(const sip::message& invite, const std::string& method) {
        sip::message_writer w;
        w.request_line(method, std::string(invite.contacts().front().uri.text));
        w.header("Via", "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-trunk-" + std::to_string(++branches_));
        w.header("From", std::string(invite.to().text) + ";tag=trunktag");
        w.header("To", std::string(invite.from().text));
        w.header("Call-ID", std::string(invite.call_id()));
        w.header("CSeq", "9 " + method);
        w.header("Max-Forwards", "70");
        return std::move(w).finish();
    }

    /// The full setup through to a confirmed call; returns leg B's authenticated INVITE.
    sip::message confirmed_call(pbx_call& c) {
        auto invite = authenticated_invite(c);
        from_trunk(trunk_challenge(invite));
        auto retries = take_matching(trunk, "INVITE");  // after the ACK of the 401
        EXPECT_EQ(retries.size(), 1u);
        if (retries.empty()) return {};
        auto retry = std::move(retries.front());
        EXPECT_TRUE(trunk_accepts(retry));
        from_trunk(trunk_response(retry, 180, "Ringing", {{"Contact", "<sip:gw7@127.0.0.1:5080>"}}));
        auto ringing = expect_one(pbx, "SIP/2.0 180");
        c.to_tag = std::string(ringing.to().tag);
        from_trunk(trunk_ok(retry));
        auto ok = expect_one(pbx, "SIP/2.0 200");
        EXPECT_EQ(ok.to().tag, c.to_tag);
        from_pbx(pbx_in_dialog(c, "ACK", c.cseq));
        expect_one(trunk, "ACK");
        return retry;
    }

    static constexpr const char* sdp_offer =
        "v=0\r\no=pbx 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    static constexpr const char* sdp_answer =
        "v=0\r\no=trunk 2 2 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

private:
    std::size_t cursor_ = 0;
    std::map<std::string, std::deque<sip::message>> inbox_;
    int branches_ = 0;
};

}  // namespace b2b::b2bua::test
