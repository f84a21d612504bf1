// Test scaffolding: the B2BUA core on a loopback transport and a manual clock, with PBX and trunk
// actors (named peers, each at its own address) that send and expect like a ladder diagram.
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

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace b2b::b2bua::test {

inline sip::endpoint ep(const char* ip, std::uint16_t port) { return {boost::asio::ip::make_address(ip), port}; }

using header_list = std::vector<std::pair<std::string, std::string>>;

class b2bua_harness;

/// A trunk as the core's configuration lists it, and as its trunk_actor plays it.
struct trunk_spec {
    std::string name;      ///< config name, metrics label; also the actor's name
    sip::endpoint address; ///< its own 127.0.0.x and port: the config's `uri`
    std::string prefix;    ///< the route prefix that picks it ("" = the default route)
    std::string username;  ///< what it expects in our Authorization
    std::string password;
    std::string extra;     ///< more keys of its config entry, e.g. "max_calls: 1, invite_timeout_ms: 2000"
    std::string uri;       ///< the config's `uri` when not "sip:<address>" (a host name located by DNS)
};

// ------------------------------------------------------------------------------------- actor

/// A named SIP peer at its own address. It receives only what the B2BUA sent to that address
/// (the harness sorts the core's sends by destination) and sends by injecting bytes into the
/// core's transport as coming from that address. Every received message has been parsed and
/// validated; `expect` checks the next one.
class actor {
public:
    actor(b2bua_harness& harness, std::string name, sip::endpoint address, std::string tag)
        : harness_(harness), name_(std::move(name)), address_(std::move(address)), tag_(std::move(tag)) {}
    actor(const actor&) = delete;
    actor& operator=(const actor&) = delete;
    virtual ~actor() = default;

    const std::string& name() const noexcept { return name_; }
    const sip::endpoint& address() const noexcept { return address_; }
    /// "127.0.0.x:port", as written in its Via, Contact and Record-Route.
    std::string host_port() const { return address_.to_string(); }
    /// The To tag it puts on the responses it sends.
    const std::string& tag() const noexcept { return tag_; }

    // ---------------------------------------------------------------- receiving
    /// Everything the B2BUA sent to this actor and it has not taken yet, in order.
    std::vector<sip::message> take();
    /// Same, keeping those whose first line starts with `start`; the rest is dropped.
    std::vector<sip::message> take_matching(const std::string& start);
    /// Exactly one message is waiting, and it starts with `start` (a method, or "SIP/2.0 <code>").
    sip::message expect(const std::string& start);
    /// Nothing is waiting.
    void expect_nothing();
    /// The wire text of every message the B2BUA ever sent to this actor, taken or not.
    const std::vector<std::string>& received() const noexcept { return received_; }
    /// CRLF keep-alives the B2BUA sent to this actor (collected like messages).
    std::size_t keepalives() const noexcept { return keepalives_; }

    // ---------------------------------------------------------------- sending
    /// Hands `bytes` to the B2BUA as a UDP datagram from this actor's address.
    void send(std::string_view bytes);
    /// A response to `request` with this actor's tag (when To has none and status > 100).
    std::string response(const sip::message& request, int status, std::string_view reason,
                         const header_list& extra = {}, std::string_view body = {}) const;
    void respond(const sip::message& request, int status, std::string_view reason, const header_list& extra = {},
                 std::string_view body = {}) {
        send(response(request, status, reason, extra, body));
    }

protected:
    std::string via() { return "SIP/2.0/UDP " + host_port() + ";branch=" + next_branch(); }
    std::string next_branch() { return "z9hG4bK-" + name_ + "-" + std::to_string(++branches_); }
    int next_number() { return ++numbers_; }

    b2bua_harness& harness_;

private:
    friend class b2bua_harness;
    std::string name_;
    sip::endpoint address_;
    std::string tag_;
    std::deque<sip::message> inbox_;
    std::vector<std::string> received_;
    int branches_ = 0;
    int numbers_ = 0;
    std::size_t keepalives_ = 0;
};

// --------------------------------------------------------------------------------- pbx_actor

/// One call as a PBX sees it (leg A): its identifiers, and the tag the B2BUA gave it.
struct pbx_call {
    std::string call_id = "pbx-call-1@10.0.0.1";
    std::string from_tag = "pbxtag1";
    std::string to_tag;  // learnt from the B2BUA's responses
    std::uint32_t cseq = 1;
    std::string branch;  // of the last INVITE
    std::string dialled = "1000";
};

/// A PBX: calls through the B2BUA (INVITE, answering its 407, ACK, BYE, CANCEL) and answers
/// what it is sent. Its LAN identity (From host, Call-ID host) is 10.0.0.<n>.
class pbx_actor final : public actor {
public:
    pbx_actor(b2bua_harness& harness, std::string name, sip::endpoint address, std::string lan_host)
        : actor(harness, name, std::move(address), name + "tag"), lan_host_(std::move(lan_host)) {}

    const std::string& lan_host() const noexcept { return lan_host_; }
    /// A new call with identifiers of its own (Call-ID and From tag name this actor).
    pbx_call new_call(std::string dialled = "1000") {
        const int n = next_number();
        pbx_call c;
        c.call_id = name() + "-call-" + std::to_string(n) + "@" + lan_host_;
        c.from_tag = name() + "tag" + std::to_string(n);
        c.dialled = std::move(dialled);
        return c;
    }
    /// The Request-URI (and digest uri) of the call's INVITE: the number at the B2BUA.
    std::string request_uri(const pbx_call& c) const;

    // Builders (a new branch for each INVITE); the senders below send what they build.
    std::string invite_bytes(pbx_call& c, const std::string& proxy_authorization = {});
    std::string ack_failure_bytes(const pbx_call& c, const sip::message& response) const;
    std::string in_dialog_bytes(const pbx_call& c, const std::string& method, std::uint32_t cseq);
    std::string cancel_bytes(const pbx_call& c) const;
    std::string options_bytes(const header_list& extra = {});

    void invite(pbx_call& c, const std::string& proxy_authorization = {}) { send(invite_bytes(c, proxy_authorization)); }
    /// The ACK for a non-2xx final response to the INVITE (same branch, §17.1.1.3).
    void ack_failure(const pbx_call& c, const sip::message& response) { send(ack_failure_bytes(c, response)); }
    /// The ACK for the 2xx (new branch, the INVITE's CSeq number).
    void ack(const pbx_call& c) { send(in_dialog_bytes(c, "ACK", c.cseq)); }
    void bye(const pbx_call& c) { send(in_dialog_bytes(c, "BYE", c.cseq + 1)); }
    void cancel(const pbx_call& c) { send(cancel_bytes(c)); }
    void options(const header_list& extra = {}) { send(options_bytes(extra)); }
    /// ACKs the challenge and sends the INVITE again (next CSeq) with credentials.
    void authenticate(pbx_call& c, const sip::message& challenge, const std::string& user = "pbxuser",
                      const std::string& password = "pbxpass") {
        ack_failure(c, challenge);
        ++c.cseq;
        invite(c, answer_challenge(challenge, user, password, request_uri(c)));
    }

    /// The answer to a 407, computed by our own digest client.
    static std::string answer_challenge(const sip::message& challenge, const std::string& user,
                                        const std::string& password, const std::string& uri) {
        const auto values = challenge.values(sip::header_id::proxy_authenticate);
        auto chosen = auth::select_challenge(values);
        EXPECT_TRUE(chosen.has_value());
        if (!chosen) return {};
        return auth::make_authorization(*chosen, {user, password}, "INVITE", uri, 1, "0a4f113b");
    }

private:
    std::string from(const pbx_call& c) const { return "\"Reception\" <sip:200@" + lan_host_ + ":5060>;tag=" + c.from_tag; }
    std::string lan_host_;
};

// ------------------------------------------------------------------------------- trunk_actor

/// A provider trunk: challenges our INVITE with 401, checks our credentials, answers, hangs up.
/// Its realm, gateway and edge proxy names carry its name, so that a leak shows.
class trunk_actor final : public actor {
public:
    trunk_actor(b2bua_harness& harness, const trunk_spec& spec)
        : actor(harness, spec.name, spec.address, spec.name + "tag"), spec_(spec) {}

    const trunk_spec& spec() const noexcept { return spec_; }
    std::string realm() const { return name() + ".example"; }
    /// Its Contact: a gateway behind its address.
    std::string contact() const { return "<sip:gw-" + name() + "@" + host_port() + ">"; }
    /// Its Record-Route on the 200: an edge proxy name, then its address.
    std::string record_route() const { return "<sip:edge." + realm() + ";lr>, <sip:" + host_port() + ";lr>"; }

    std::string challenge_bytes(const sip::message& invite, bool stale = false);
    std::string ok_bytes(const sip::message& invite) const {
        return response(invite, 200, "OK", {{"Contact", contact()}, {"Record-Route", record_route()}}, sdp_answer);
    }
    /// A request in leg B's dialog (BYE, ...), given the INVITE it answered.
    std::string in_dialog_bytes(const sip::message& invite, const std::string& method);

    void challenge(const sip::message& invite, bool stale = false) { send(challenge_bytes(invite, stale)); }
    void ringing(const sip::message& invite) { respond(invite, 180, "Ringing", {{"Contact", contact()}}); }
    void ok(const sip::message& invite) { send(ok_bytes(invite)); }
    void bye(const sip::message& invite) { send(in_dialog_bytes(invite, "BYE")); }

    /// Whether the request's Authorization is right for this trunk's user, password and realm.
    bool accepts(const sip::message& invite) const;
    /// The provider changes the account's password (it accepts only the new one from now on).
    void set_password(std::string password) { spec_.password = std::move(password); }

    static constexpr const char* sdp_answer =
        "v=0\r\no=trunk 2 2 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

private:
    trunk_spec spec_;
};

// ----------------------------------------------------------------------------- the harness

/// The B2BUA as the process wires it, minus sockets and real time: one core and one
/// transaction manager on a loopback transport (at 127.0.0.1:5070) and a manual clock, with
/// a trunk actor per configured trunk and any number of PBX actors. Every message the core
/// sends is parsed, validated and given to the actor at its destination; one sent to an
/// address no actor has is a test failure (`expect_no_strays`).
class b2bua_harness {
public:
    static constexpr const char* sdp_offer =
        "v=0\r\no=pbx 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    static constexpr const char* sdp_answer = trunk_actor::sdp_answer;

    /// Trunk n (from 1) sits at 127.0.0.(20+n):(5200+n), PBX n at 127.0.0.(10+n):(5100+n).
    static trunk_spec numbered_trunk(int n, std::string name, std::string prefix, std::string extra = {}) {
        const std::string ip = "127.0.0." + std::to_string(20 + n);
        return {name, ep(ip.c_str(), static_cast<std::uint16_t>(5200 + n)), std::move(prefix), name + "-user",
                name + "-pass", std::move(extra), {}};
    }

    /// `routes`: the items of the config's `routes:` list (YAML lines); empty = one route per
    /// trunk, by its prefix. `extra_yaml` is appended to the configuration (top-level sections
    /// such as inbound_routes); `downstream_yaml` goes into its downstream section and
    /// `calls_extra` into its calls section (lines indented by two spaces).
    explicit b2bua_harness(std::vector<trunk_spec> trunks, const std::string& routes = {},
                           const std::string& extra_yaml = {}, const std::string& downstream_yaml = {},
                           const std::string& calls_extra = {}, sip::resolver::dns_lookup* dns = nullptr)
        : specs_(std::move(trunks)),
          cfg(parse_config(make_config(specs_, routes, downstream_yaml) + calls_extra + extra_yaml)),
          metrics(registry, cfg.downstream.realm, names(specs_), pbx_names(cfg)) {
        b2b.attach(txm);
        b2b.set_dns(dns);
        b2b.start();
        net.set_user(&txm);
        for (const auto& s : specs_) trunks_.push_back(std::make_unique<trunk_actor>(*this, s));
    }
    b2bua_harness(const b2bua_harness&) = delete;
    b2bua_harness& operator=(const b2bua_harness&) = delete;

    /// A new PBX actor, at the next PBX address.
    pbx_actor& add_pbx(const std::string& name) {
        const int n = static_cast<int>(pbxs_.size()) + 1;
        const std::string ip = "127.0.0." + std::to_string(10 + n);
        pbxs_.push_back(std::make_unique<pbx_actor>(*this, name, ep(ip.c_str(), static_cast<std::uint16_t>(5100 + n)),
                                                    "10.0.0." + std::to_string(n)));
        return *pbxs_.back();
    }
    /// A peer at any address, neither PBX nor trunk by construction (the tests decide).
    actor& add_actor(const std::string& name, sip::endpoint address) {
        others_.push_back(std::make_unique<actor>(*this, name, std::move(address), name + "tag"));
        return *others_.back();
    }
    trunk_actor& trunk_named(const std::string& name) {
        for (auto& t : trunks_) {
            if (t->name() == name) return *t;
        }
        throw std::out_of_range("no trunk " + name);
    }
    std::vector<actor*> actors() {
        std::vector<actor*> all;
        for (auto& p : pbxs_) all.push_back(p.get());
        for (auto& t : trunks_) all.push_back(t.get());
        for (auto& o : others_) all.push_back(o.get());
        return all;
    }
    /// "127.0.0.1:5070": where actors send.
    std::string core_host_port() const { return net.local().to_string(); }

    /// Sorts what the core sent since the last call into the actors' inboxes.
    void collect();
    /// No message went to an address that no actor has.
    void expect_no_strays() {
        collect();
        for (const auto& m : strays_) ADD_FAILURE() << "sent to no actor: " << m;
    }

    // ---------------------------------------------------------------- ladders used by many tests
    /// INVITE, 407, ACK, INVITE with credentials: returns the B2BUA's INVITE as `trunk` sees it
    /// (an empty message when the password is wrong: then the test looks at the PBX).
    sip::message authenticated_invite(pbx_actor& pbx, pbx_call& c, trunk_actor& trunk,
                                      const std::string& password = "pbxpass") {
        pbx.invite(c);
        auto challenge = pbx.expect("SIP/2.0 407");
        pbx.authenticate(c, challenge, "pbxuser", password);
        if (password != "pbxpass") return {};
        auto got = pbx.take();  // a 100 Trying, nothing else
        EXPECT_EQ(got.size(), 1u);
        if (!got.empty()) {
            EXPECT_EQ(got.front().status(), 100);
        }
        return trunk.expect("INVITE");
    }

    /// The full setup through to a confirmed call (the trunk challenges once, rings, answers);
    /// returns leg B's authenticated INVITE.
    sip::message confirmed_call(pbx_actor& pbx, pbx_call& c, trunk_actor& trunk) {
        auto invite = authenticated_invite(pbx, c, trunk);
        trunk.challenge(invite);
        auto retries = trunk.take_matching("INVITE");  // after the ACK of the 401
        EXPECT_EQ(retries.size(), 1u);
        if (retries.empty()) return {};
        auto retry = std::move(retries.front());
        EXPECT_TRUE(trunk.accepts(retry));
        trunk.ringing(retry);
        auto ringing = pbx.expect("SIP/2.0 180");
        c.to_tag = std::string(ringing.to().tag);
        trunk.ok(retry);
        auto ok = pbx.expect("SIP/2.0 200");
        EXPECT_EQ(ok.to().tag, c.to_tag);
        pbx.ack(c);
        trunk.expect("ACK");
        return retry;
    }

    /// Sum of the series of `name` whose labels include `labels` (gauges and counters).
    double counter(const std::string& name, const std::map<std::string, std::string>& labels);

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

protected:
    static std::string make_config(const std::vector<trunk_spec>& trunks, const std::string& routes,
                                   const std::string& downstream_yaml);
    static std::vector<std::string> pbx_names(const config& c) {
        std::vector<std::string> out;
        for (const auto& r : c.inbound_routes) out.push_back(r.target.name);
        return out;
    }
    static std::vector<std::string> names(const std::vector<trunk_spec>& trunks) {
        std::vector<std::string> out;
        for (const auto& t : trunks) out.push_back(t.name);
        return out;
    }

    std::vector<trunk_spec> specs_;

public:
    ::b2b::test::manual_timer_service clock;
    ::b2b::test::loopback_transport net{ep("127.0.0.1", 5070)};
    config cfg;
    prometheus::Registry registry;
    b2bua_metrics metrics;
    downstream_auth auth{cfg.downstream, cfg.security.allow_rfc2069};
    core b2b{cfg, net, clock, metrics, auth};
    sip::transaction_manager txm{net, clock, b2b,
                                 [this] {
                                     sip::transaction_config t;
                                     t.server_header = cfg.security.server_header;
                                     return t;
                                 }(),
                                 &metrics};

private:
    std::size_t cursor_ = 0;
    std::vector<std::unique_ptr<pbx_actor>> pbxs_;
    std::vector<std::unique_ptr<trunk_actor>> trunks_;
    std::vector<std::unique_ptr<actor>> others_;
    std::vector<std::string> strays_;
};

// ------------------------------------------------------------------ calls from a provider

/// What a provider sends: a call to one of our DIDs, with its own topology all over it.
struct provider_call {
    std::string call_id = "prov-call-1@sbc.carrier.example";
    std::string from_tag = "provtag1";
    std::string branch = "z9hG4bK-prov-1";
    std::string dialled = "+4930111";
    std::uint32_t cseq = 101;
};

inline std::string provider_invite(const actor& from, const b2bua_harness& h, const provider_call& c,
                            const std::string& extra = {}) {
    sip::message_writer w;
    const std::string ruri = "sip:" + c.dialled + "@" + h.core_host_port();
    w.request_line("INVITE", ruri);
    w.header("Via", "SIP/2.0/UDP " + from.host_port() + ";branch=" + c.branch);
    w.header("Record-Route", "<sip:edge.carrier.example;lr>");
    w.header("From", "\"Caller\" <sip:+4989555@sbc.carrier.example>;tag=" + c.from_tag);
    w.header("To", "<" + ruri + ">");
    w.header("Call-ID", c.call_id);
    w.header("CSeq", std::to_string(c.cseq) + " INVITE");
    w.header("Contact", "<sip:gw@" + from.host_port() + ">");
    w.header("Max-Forwards", "70");
    if (!extra.empty()) w.raw_line(extra);
    return std::move(w).finish(b2bua_harness::sdp_offer, "application/sdp");
}

inline std::string provider_in_dialog(const actor& from, const b2bua_harness& h, const provider_call& c,
                               const std::string& method, std::uint32_t cseq, const std::string& to_tag) {
    sip::message_writer w;
    w.request_line(method, "sip:b2bua@" + h.core_host_port());
    w.header("Via", "SIP/2.0/UDP " + from.host_port() + ";branch=" + c.branch + "-" + method);
    w.header("From", "\"Caller\" <sip:+4989555@sbc.carrier.example>;tag=" + c.from_tag);
    w.header("To", "<sip:" + c.dialled + "@" + h.core_host_port() + ">;tag=" + to_tag);
    w.header("Call-ID", c.call_id);
    w.header("CSeq", std::to_string(cseq) + " " + method);
    w.header("Max-Forwards", "70");
    return std::move(w).finish();
}

// The PBX answers as a UAS: its own Contact and tag.
inline std::string pbx_ok(const actor& pbx, const sip::message& invite) {
    return pbx.response(invite, 200, "OK", {{"Contact", "<sip:ext100@" + pbx.host_port() + ">"}},
                        b2bua_harness::sdp_answer);
}

// ------------------------------------------------------------------------------- fixtures

/// One PBX ("pbx") and one trunk ("carrier", the default route), with the helpers the
/// single-call tests use.
class call_flow : public ::testing::Test, public b2bua_harness {
protected:
    call_flow() : b2bua_harness({numbered_trunk(1, "carrier", "")}) {}
    /// With more keys in the `calls` section ("  session_expires_s: 0\n").
    explicit call_flow(const std::string& calls_extra)
        : b2bua_harness({numbered_trunk(1, "carrier", "")}, {}, {}, {}, calls_extra) {}
    void TearDown() override { expect_no_strays(); }

    pbx_actor& pbx = add_pbx("pbx");
    trunk_actor& trunk = trunk_named("carrier");

    using b2bua_harness::authenticated_invite;
    using b2bua_harness::confirmed_call;
    sip::message authenticated_invite(pbx_call& c, const std::string& password = "pbxpass") {
        return authenticated_invite(pbx, c, trunk, password);
    }
    sip::message confirmed_call(pbx_call& c) { return confirmed_call(pbx, c, trunk); }
};

// ------------------------------------------------------------------------ inline definitions

inline std::vector<sip::message> actor::take() {
    harness_.collect();
    std::vector<sip::message> out(std::make_move_iterator(inbox_.begin()), std::make_move_iterator(inbox_.end()));
    inbox_.clear();
    return out;
}

inline std::vector<sip::message> actor::take_matching(const std::string& start) {
    std::vector<sip::message> out;
    for (auto& m : take()) {
        if (b2bua_harness::starts(m, start)) out.push_back(std::move(m));
    }
    return out;
}

inline sip::message actor::expect(const std::string& start) {
    auto got = take();
    std::string seen;
    for (auto& m : got) seen += std::string(b2bua_harness::first_line(m)) + " | ";
    EXPECT_EQ(got.size(), 1u) << name_ << " expected " << start << ", got: " << seen;
    if (got.empty()) return {};
    EXPECT_TRUE(b2bua_harness::starts(got.front(), start))
        << name_ << " expected " << start << ", got " << b2bua_harness::first_line(got.front());
    return std::move(got.front());
}

inline void actor::expect_nothing() {
    for (auto& m : take()) ADD_FAILURE() << name_ << " expected nothing, got " << b2bua_harness::first_line(m);
}

inline void actor::send(std::string_view bytes) { harness_.net.inject_from(address_, bytes); }

inline std::string actor::response(const sip::message& request, int status, std::string_view reason,
                                   const header_list& extra, std::string_view body) const {
    sip::message_writer w = sip::response_writer(request, status, reason, status > 100 ? tag_ : "");
    for (const auto& [n, v] : extra) w.header(n, v);
    return std::move(w).finish(body, body.empty() ? "" : "application/sdp");
}

inline std::string pbx_actor::request_uri(const pbx_call& c) const {
    return "sip:" + c.dialled + "@" + harness_.core_host_port();
}

inline std::string pbx_actor::invite_bytes(pbx_call& c, const std::string& proxy_authorization) {
    c.branch = next_branch();
    sip::message_writer w;
    w.request_line("INVITE", request_uri(c));
    w.header("Via", "SIP/2.0/UDP " + host_port() + ";branch=" + c.branch);
    w.header("From", from(c));
    w.header("To", "<" + request_uri(c) + ">");
    w.header("Call-ID", c.call_id);
    w.header("CSeq", std::to_string(c.cseq) + " INVITE");
    w.header("Contact", "<sip:200@" + host_port() + ">");
    w.header("Record-Route", "<sip:pbx-proxy.internal;lr>");
    w.header("Max-Forwards", "70");
    if (!proxy_authorization.empty()) w.header("Proxy-Authorization", proxy_authorization);
    return std::move(w).finish(b2bua_harness::sdp_offer, "application/sdp");
}

inline std::string pbx_actor::ack_failure_bytes(const pbx_call& c, const sip::message& response) const {
    sip::message_writer w;
    w.request_line("ACK", request_uri(c));
    w.header("Via", "SIP/2.0/UDP " + host_port() + ";branch=" + c.branch);
    w.header("From", from(c));
    w.header("To", b2bua_harness::header(response, sip::header_id::to));
    w.header("Call-ID", c.call_id);
    w.header("CSeq", std::to_string(c.cseq) + " ACK");
    w.header("Max-Forwards", "70");
    return std::move(w).finish();
}

inline std::string pbx_actor::in_dialog_bytes(const pbx_call& c, const std::string& method, std::uint32_t cseq) {
    sip::message_writer w;
    w.request_line(method, "sip:b2bua@" + harness_.core_host_port());
    w.header("Via", via());
    w.header("From", from(c));
    w.header("To", "<" + request_uri(c) + ">;tag=" + c.to_tag);
    w.header("Call-ID", c.call_id);
    w.header("CSeq", std::to_string(cseq) + " " + method);
    w.header("Max-Forwards", "70");
    return std::move(w).finish();
}

inline std::string pbx_actor::cancel_bytes(const pbx_call& c) const {
    sip::message_writer w;
    w.request_line("CANCEL", request_uri(c));
    w.header("Via", "SIP/2.0/UDP " + host_port() + ";branch=" + c.branch);
    w.header("From", from(c));
    w.header("To", "<" + request_uri(c) + ">");
    w.header("Call-ID", c.call_id);
    w.header("CSeq", std::to_string(c.cseq) + " CANCEL");
    w.header("Max-Forwards", "70");
    return std::move(w).finish();
}

inline std::string pbx_actor::options_bytes(const header_list& extra) {
    const std::string n = std::to_string(next_number());
    sip::message_writer w;
    w.request_line("OPTIONS", "sip:" + harness_.core_host_port());
    w.header("Via", via());
    w.header("From", "<sip:monitor@" + lan_host_ + ">;tag=m" + n);
    w.header("To", "<sip:" + harness_.core_host_port() + ">");
    w.header("Call-ID", name() + "-opt-" + n);
    w.header("CSeq", "1 OPTIONS");
    for (const auto& [k, v] : extra) w.header(k, v);
    w.header("Max-Forwards", "70");
    return std::move(w).finish();
}

inline std::string trunk_actor::challenge_bytes(const sip::message& invite, bool stale) {
    return response(invite, 401, "Unauthorized",
                    {{"WWW-Authenticate", "Digest realm=\"" + realm() + "\", nonce=\"n-" + name() + "-" +
                                              std::to_string(next_number()) + "\", qop=\"auth\", algorithm=MD5" +
                                              (stale ? ", stale=true" : "")}});
}

inline std::string trunk_actor::in_dialog_bytes(const sip::message& invite, const std::string& method) {
    sip::message_writer w;
    w.request_line(method, std::string(invite.contacts().front().uri.text));
    w.header("Via", via());
    w.header("From", std::string(invite.to().text) + ";tag=" + tag());
    w.header("To", std::string(invite.from().text));
    w.header("Call-ID", std::string(invite.call_id()));
    w.header("CSeq", "9 " + method);
    w.header("Max-Forwards", "70");
    return std::move(w).finish();
}

inline bool trunk_actor::accepts(const sip::message& invite) const {
    const auto* h = invite.find(sip::header_id::authorization);
    if (!h) return false;
    auto creds = auth::parse_credentials(h->value);
    if (!creds || creds->username != spec_.username || creds->realm != realm()) return false;
    const auto alg = auth::algorithm::md5;
    const auto ha1 = auth::compute_ha1(alg, spec_.username, realm(), spec_.password);
    const auto ha2 = auth::compute_ha2(alg, invite.method_text(), creds->uri);
    const auto expected =
        auth::compute_response(alg, {ha1, creds->nonce, creds->nc, creds->cnonce, creds->qop.value_or(""), ha2});
    return creds->uri == invite.request_uri().text && expected == creds->response;
}

inline void b2bua_harness::collect() {
    while (cursor_ < net.sent().size()) {
        const auto& s = net.sent()[cursor_++];
        if (s.bytes.find_first_not_of("\r\n") == std::string::npos) {
            // A CRLF keep-alive (RFC 5626 §3.5.1 style): counted, not a SIP message.
            actor* to = nullptr;
            for (actor* a : actors()) {
                if (a->address() == s.flow.remote) to = a;
            }
            if (to == nullptr) {
                strays_.push_back(s.flow.remote.to_string() + ": keep-alive");
            } else {
                ++to->keepalives_;
            }
            continue;
        }
        auto m = sip::parse_message(s.bytes);
        EXPECT_TRUE(m.has_value()) << "the B2BUA sent something unparseable:\n" << s.bytes;
        if (!m) continue;
        auto v = m->is_request() ? sip::validate_request(*m) : sip::validate_response(*m);
        EXPECT_TRUE(v.has_value()) << "the B2BUA sent an invalid message (" << v.error().what() << "):\n" << s.bytes;
        actor* to = nullptr;
        for (actor* a : actors()) {
            if (a->address() == s.flow.remote) to = a;
        }
        if (to == nullptr) {
            strays_.push_back(s.flow.remote.to_string() + ": " + std::string(first_line(*m)));
            continue;
        }
        to->received_.push_back(s.bytes);
        to->inbox_.push_back(std::move(*m));
    }
}

inline double b2bua_harness::counter(const std::string& name, const std::map<std::string, std::string>& labels) {
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

inline std::string b2bua_harness::make_config(const std::vector<trunk_spec>& trunks, const std::string& routes,
                                             const std::string& downstream_yaml) {
    std::string y = R"(
sip:
  listen: [ "udp://127.0.0.1:5070" ]
downstream:
  realm: pbx.local
  algorithms: [ MD5, SHA-256 ]
  nonce_ttl_s: 60
  users:
    - { username: pbxuser, password: pbxpass }
)";
    y += downstream_yaml;
    y += "upstream:\n  trunks:\n";
    for (const auto& t : trunks) {
        const std::string uri = t.uri.empty() ? "sip:" + t.address.to_string() : t.uri;
        y += "    - { name: " + t.name + ", uri: \"" + uri + "\", username: " + t.username +
             ", password: " + t.password + (t.extra.empty() ? "" : ", " + t.extra) + " }\n";
    }
    y += "routes:\n";
    if (!routes.empty()) {
        y += routes;
    } else {
        for (const auto& t : trunks) y += "  - { prefix: \"" + t.prefix + "\", trunk: " + t.name + " }\n";
    }
    y += "calls:\n  max_ringing_s: 120\n";
    return y;
}

}  // namespace b2b::b2bua::test
