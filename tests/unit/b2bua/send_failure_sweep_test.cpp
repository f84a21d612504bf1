// A send-failure sweep over a whole call (after Beast's failMatrix): send n of the B2BUA fails,
// for n = 0, 1, 2, ... until the call no longer reaches send n, and each time nothing is left.
#include "tests/unit/b2bua/call_flow.hpp"

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace b2b::b2bua::test {
namespace {

using namespace std::chrono_literals;
using time_point = sip::timer_service::time_point;
using duration = sip::timer_service::duration;

constexpr duration t1 = 500ms;
constexpr duration t2 = 4s;

/// One UDP retransmission schedule: `bytes` again after T1, then at doubling intervals (capped
/// at `cap`) until stopped or 64*T1 after the first send. The same shape serves Timer A
/// (INVITE, no cap, §17.1.1.2), Timer E (non-INVITE, cap T2, §17.1.2.2), Timer G (non-2xx
/// final, cap T2, §17.2.1) and the UAS's 2xx (cap T2, §13.3.1.4).
struct retransmission {
    std::string bytes;
    time_point next{};
    duration interval{};
    duration cap{};
    time_point give_up{};
    bool active = false;
    bool expired = false;  ///< gave up unanswered (or un-ACKed)

    void start(std::string b, time_point now, duration max_interval) {
        bytes = std::move(b);
        interval = t1;
        cap = max_interval;
        next = now + interval;
        give_up = now + 64 * t1;
        active = true;
        expired = false;
    }
    void stop() { active = false; }
    /// Resends through `a` if due; returns whether it did.
    bool fire(actor& a, time_point now) {
        if (!active || now < next) return false;
        if (now >= give_up) {
            active = false;
            expired = true;
            return false;
        }
        a.send(bytes);
        interval = std::min(2 * interval, cap);
        next = now + interval;
        return true;
    }
};

/// A PBX as a real one behaves, for one call: INVITE, answer the 407, ACK every final
/// response, hang up as soon as the call is answered, answer a BYE from the B2BUA, and
/// retransmit its requests until they are answered.
class reactive_pbx {
public:
    explicit reactive_pbx(pbx_actor& a) : a_(a), call_(a.new_call("1000")) {}

    void start(time_point now) { send_invite({}, now); }

    void on(const sip::message& m, time_point now) {
        if (m.is_request()) {
            if (m.method() == sip::method::ack) return;
            // The B2BUA hangs up (or anything else in the dialog): agree.
            a_.respond(m, 200, "OK");
            return;
        }
        const auto method = m.cseq().method;
        if (method == sip::method::bye) {
            if (m.status() >= 200) {
                bye_.stop();
                hung_up_ = true;
                bye_status_ = m.status();
            }
            return;
        }
        if (method != sip::method::invite) return;
        if (m.cseq().seq == call_.cseq) invite_.stop();  // Proceeding or Completed: stop Timer A
        if (m.status() < 200) {
            if (!m.to().tag.empty()) call_.to_tag = std::string(m.to().tag);
            return;
        }
        if (m.cseq().seq == call_.cseq && !(m.status() == 407 && !authenticated_)) final_status_ = m.status();
        if (m.status() < 300) {
            call_.to_tag = std::string(m.to().tag);
            a_.send(a_.in_dialog_bytes(call_, "ACK", call_.cseq));  // every 2xx gets its ACK (§13.2.2.4)
            if (!answered_) {
                answered_ = true;
                bye_.start(a_.in_dialog_bytes(call_, "BYE", call_.cseq + 1), now, t2);
                a_.send(bye_.bytes);
            }
            return;
        }
        // A non-2xx final response: ACK on its INVITE's branch (§17.1.1.3), retransmissions too.
        pbx_call acked = call_;
        acked.cseq = m.cseq().seq;
        acked.branch = std::string(m.vias().front().branch);
        a_.send(a_.ack_failure_bytes(acked, m));
        if (m.status() == 407 && !authenticated_ && m.cseq().seq == call_.cseq) {
            authenticated_ = true;
            ++call_.cseq;
            send_invite(pbx_actor::answer_challenge(m, "pbxuser", "pbxpass", a_.request_uri(call_)), now);
        }
    }

    void on_timer(time_point now) {
        invite_.fire(a_, now);
        bye_.fire(a_, now);
    }
    std::optional<time_point> next_timer() const { return earliest({&invite_, &bye_}); }

    bool answered() const { return answered_; }
    bool hung_up() const { return hung_up_; }
    /// The final response to its last INVITE (0: none ever came).
    int final_status() const { return final_status_; }
    /// The final response to its BYE (0: no BYE, or no answer).
    int bye_status() const { return bye_status_; }

    static std::optional<time_point> earliest(std::initializer_list<const retransmission*> rs) {
        std::optional<time_point> t;
        for (const auto* r : rs) {
            if (r->active && (!t || r->next < *t)) t = r->next;
        }
        return t;
    }

private:
    void send_invite(const std::string& credentials, time_point now) {
        invite_.start(a_.invite_bytes(call_, credentials), now, 64 * t1);
        a_.send(invite_.bytes);
    }

    pbx_actor& a_;
    pbx_call call_;
    retransmission invite_;
    retransmission bye_;
    bool authenticated_ = false;
    bool answered_ = false;
    bool hung_up_ = false;
    int final_status_ = 0;
    int bye_status_ = 0;
};

/// A trunk as a real one behaves: 401 to an INVITE without good credentials, 180 and 200 to
/// one with them; every final response retransmitted until ACKed; a retransmitted INVITE
/// gets the last response again; 200 to BYE and CANCEL.
class reactive_trunk {
public:
    explicit reactive_trunk(trunk_actor& a) : a_(a) {}

    void on(const sip::message& m, time_point now) {
        if (!m.is_request()) return;  // 200s to our nothing: we send no requests
        const std::string branch(m.vias().front().branch);
        switch (m.method()) {
        case sip::method::invite: {
            call_ids_.insert(std::string(m.call_id()));
            if (auto it = last_.find(branch); it != last_.end()) {
                a_.send(it->second);  // a retransmission: the last response again (§17.2.1)
                return;
            }
            if (!a_.accepts(m)) {
                last_[branch] = a_.challenge_bytes(m);
                finals_[branch].start(last_[branch], now, t2);
                a_.send(last_[branch]);
                return;
            }
            answered_ = true;
            a_.send(a_.response(m, 180, "Ringing", {{"Contact", a_.contact()}}));
            last_[branch] = a_.ok_bytes(m);
            finals_[ok_key].start(last_[branch], now, t2);
            a_.send(last_[branch]);
            return;
        }
        case sip::method::ack:
            // A non-2xx's ACK has its INVITE's branch; the 2xx's ACK is a request of its own.
            if (auto it = finals_.find(branch); it != finals_.end()) {
                it->second.stop();
            } else {
                finals_[ok_key].stop();
                acked_ = true;
            }
            return;
        case sip::method::bye:
            got_bye_ = true;
            a_.respond(m, 200, "OK");
            return;
        default:
            a_.respond(m, 200, "OK");
            return;
        }
    }

    void on_timer(time_point now) {
        for (auto& [key, r] : finals_) r.fire(a_, now);
    }
    std::optional<time_point> next_timer() const {
        std::optional<time_point> t;
        for (const auto& [key, r] : finals_) {
            if (r.active && (!t || r.next < *t)) t = r.next;
        }
        return t;
    }

    bool acked() const { return acked_; }
    bool got_bye() const { return got_bye_; }
    bool answered() const { return answered_; }
    /// Leg B Call-IDs it was sent INVITEs for: one per call, whatever was retried.
    std::size_t calls_offered() const { return call_ids_.size(); }
    /// Final responses it retransmitted for 64*T1 without ever getting their ACK.
    std::size_t unacked_finals() const {
        return static_cast<std::size_t>(
            std::count_if(finals_.begin(), finals_.end(), [](const auto& kv) { return kv.second.expired; }));
    }

private:
    static constexpr const char* ok_key = "2xx";
    trunk_actor& a_;
    std::map<std::string, std::string> last_;  // INVITE branch -> last response sent
    std::map<std::string, retransmission> finals_;
    std::set<std::string> call_ids_;
    bool acked_ = false;
    bool got_bye_ = false;
    bool answered_ = false;
};

/// One run of the whole call with send `fail_at` of the B2BUA failing (none when empty),
/// then five minutes for every timer to run out.
struct run_result {
    std::size_t attempts = 0;   ///< sends the B2BUA tried
    std::size_t failed = 0;     ///< of which failed
    std::vector<std::string> sent;  ///< "destination: first line" of each successful send
    bool answered = false;
    bool pbx_hung_up = false;
    bool trunk_acked = false;
    bool trunk_got_bye = false;
    int pbx_final = 0;
    int pbx_bye_status = 0;
    bool trunk_answered = false;
    std::size_t trunk_calls_offered = 0;
    std::size_t trunk_unacked_finals = 0;
    std::size_t calls = 0;
    std::size_t dialogs = 0;
    std::size_t transactions = 0;
    std::size_t timers = 0;
    double active_gauge = 0;
};

run_result run_call(std::optional<std::size_t> fail_at) {
    b2bua_harness h({b2bua_harness::numbered_trunk(1, "carrier", "")});
    auto& pbx_a = h.add_pbx("pbx");
    auto& trunk_a = h.trunk_named("carrier");
    if (fail_at) h.net.fail_send_number(*fail_at);
    reactive_pbx pbx(pbx_a);
    reactive_trunk trunk(trunk_a);

    // Delivers what the B2BUA sent until the peers have nothing more to say.
    const auto pump = [&] {
        for (bool any = true; any;) {
            any = false;
            for (auto& m : pbx_a.take()) {
                any = true;
                pbx.on(m, h.clock.now());
            }
            for (auto& m : trunk_a.take()) {
                any = true;
                trunk.on(m, h.clock.now());
            }
        }
    };

    pbx.start(h.clock.now());
    pump();
    const time_point end = h.clock.now() + 5min;
    while (h.clock.now() < end) {
        time_point next = end;
        for (auto t : {h.clock.next_due(), pbx.next_timer(), trunk.next_timer()}) {
            if (t && *t < next) next = *t;
        }
        h.clock.advance_to(next);
        pbx.on_timer(h.clock.now());
        trunk.on_timer(h.clock.now());
        pump();
    }

    h.expect_no_strays();
    run_result r;
    r.attempts = h.net.send_attempts();
    r.failed = h.net.failed_sends();
    for (const auto& s : h.net.sent()) {
        // "pbx: 200 / CSeq 2 INVITE", "trunk: ACK / CSeq 1 ACK": what the send was, exactly.
        auto m = sip::parse_message(s.bytes);
        if (!m) continue;
        r.sent.push_back(std::string(s.flow.remote == pbx_a.address() ? "pbx: " : "trunk: ") +
                         (m->is_request() ? std::string(sip::to_string(m->method())) : std::to_string(m->status())) +
                         " / CSeq " + b2bua_harness::header(*m, sip::header_id::cseq));
    }
    r.answered = pbx.answered();
    r.pbx_hung_up = pbx.hung_up();
    r.trunk_acked = trunk.acked();
    r.trunk_got_bye = trunk.got_bye();
    r.pbx_final = pbx.final_status();
    r.pbx_bye_status = pbx.bye_status();
    r.trunk_answered = trunk.answered();
    r.trunk_calls_offered = trunk.calls_offered();
    r.trunk_unacked_finals = trunk.unacked_finals();
    r.calls = h.b2b.active_calls();
    r.dialogs = h.b2b.dialogs();
    r.transactions = h.txm.size();
    r.timers = h.clock.pending();
    r.active_gauge = h.counter("b2bua_active_calls", {});
    return r;
}

std::string left_behind(const run_result& r) {
    std::ostringstream o;
    o << "calls " << r.calls << ", dialogs " << r.dialogs << ", transactions " << r.transactions << ", timers " << r.timers
      << ", b2bua_active_calls " << r.active_gauge;
    return o.str();
}

/// Every send of the plain call, in order (the sweep names send n by this).
const std::vector<std::string> plain_call{
    "pbx: 407 / CSeq 1 INVITE",    // 0  the challenge
    "trunk: INVITE / CSeq 1 INVITE",  // 1  leg B, no credentials yet
    "pbx: 100 / CSeq 2 INVITE",    // 2
    "trunk: ACK / CSeq 1 ACK",     // 3  for the trunk's 401
    "trunk: INVITE / CSeq 2 INVITE",  // 4  with credentials
    "pbx: 180 / CSeq 2 INVITE",    // 5
    "pbx: 200 / CSeq 2 INVITE",    // 6
    "trunk: ACK / CSeq 2 ACK",     // 7  for the trunk's 200
    "pbx: 200 / CSeq 3 BYE",       // 8
    "trunk: BYE / CSeq 3 BYE",     // 9
};

TEST(send_failure_sweep, the_whole_call_without_failures_goes_through) {
    const auto r = run_call(std::nullopt);
    EXPECT_TRUE(r.answered);
    EXPECT_TRUE(r.trunk_acked);
    EXPECT_TRUE(r.trunk_got_bye);
    EXPECT_TRUE(r.pbx_hung_up);
    EXPECT_EQ(r.pbx_final, 200);
    EXPECT_EQ(r.pbx_bye_status, 200);
    EXPECT_EQ(r.trunk_calls_offered, 1u);
    EXPECT_EQ(r.trunk_unacked_finals, 0u);
    EXPECT_EQ(r.failed, 0u);
    EXPECT_EQ(r.sent, plain_call);  // not one retransmission
    EXPECT_EQ(r.calls, 0u) << left_behind(r);
    EXPECT_EQ(r.dialogs, 0u) << left_behind(r);
    EXPECT_EQ(r.transactions, 0u) << left_behind(r);
    EXPECT_EQ(r.timers, 0u) << left_behind(r);
    EXPECT_EQ(r.active_gauge, 0) << left_behind(r);
}

TEST(send_failure_sweep, whichever_send_fails_nothing_is_left_behind) {
    std::size_t n = 0;
    for (;; ++n) {
        ASSERT_LT(n, 200u) << "the sweep does not end";
        const auto r = run_call(n);
        if (r.attempts <= n) break;  // the call no longer reaches send n
        ASSERT_EQ(r.failed, 1u) << "n=" << n;
        SCOPED_TRACE("send " + std::to_string(n) + " failed (" + (n < plain_call.size() ? plain_call[n] : "?") + ")");
        EXPECT_EQ(r.calls, 0u) << left_behind(r);
        EXPECT_EQ(r.dialogs, 0u) << left_behind(r);
        EXPECT_EQ(r.transactions, 0u) << left_behind(r);
        EXPECT_EQ(r.timers, 0u) << left_behind(r);
        EXPECT_EQ(r.active_gauge, 0) << left_behind(r);
    }
    EXPECT_EQ(n, plain_call.size());  // every send of the plain call was made to fail once
}

/// What the peers are left with, as one line per broken promise (empty = all kept): the PBX
/// hears how its INVITE ended and its BYE is answered 200; the trunk is offered one call,
/// gets an ACK for every final response, and a BYE for a call it answered.
std::vector<std::string> broken_promises(const run_result& r) {
    std::vector<std::string> out;
    if (r.pbx_final == 0) out.emplace_back("the PBX never got a final response to its INVITE");
    if (r.pbx_bye_status != 0 && r.pbx_bye_status != 200)
        out.push_back("the PBX's BYE got " + std::to_string(r.pbx_bye_status));
    if (r.trunk_calls_offered > 1)
        out.push_back("the trunk was offered " + std::to_string(r.trunk_calls_offered) + " calls for one");
    if (r.trunk_unacked_finals > 0)
        out.push_back(std::to_string(r.trunk_unacked_finals) + " final response(s) of the trunk never ACKed");
    if (r.trunk_answered && !r.trunk_got_bye) out.emplace_back("the trunk answered and never got a BYE");
    return out;
}

// Product defects this sweep found; the committed test is green on every other send. Each
// entry is the send that fails once and what the peers are left with. (Nothing is left behind
// in the core for any of them: see the test above.) An entry that no longer breaks anything
// fails the test, so that it is taken off this list when the product is fixed.
// Sends whose failure still leaves a peer hanging, keyed by the message, with the symptom
// (none today). The sweep first found seven: a failed datagram to the PBX ended its call, a
// failed ACK or BYE to the trunk was never retried, a lost 2xx was not retransmitted. A UDP
// send that fails is now a lost datagram that the timers retry, and the request sender
// re-sends the ACK for each retransmitted 2xx itself. A defect found later goes here, with its
// symptom, until it is fixed: the test then fails and says so.
const std::map<std::string, std::string> known_defects{};

TEST(send_failure_sweep, whichever_send_fails_the_peers_are_not_left_hanging) {
    std::size_t n = 0;
    for (;; ++n) {
        ASSERT_LT(n, 200u) << "the sweep does not end";
        const auto r = run_call(n);
        if (r.attempts <= n) break;
        const std::string what = n < plain_call.size() ? plain_call[n] : "?";
        SCOPED_TRACE("send " + std::to_string(n) + " failed (" + what + ")");
        const auto broken = broken_promises(r);
        if (auto known = known_defects.find(what); known != known_defects.end()) {
            EXPECT_EQ(broken, std::vector<std::string>{known->second})
                << "known defect changed or gone (fixed? take it off known_defects): " << known->second;
            continue;
        }
        EXPECT_TRUE(broken.empty()) << ::testing::PrintToString(broken);
    }
    EXPECT_EQ(n, plain_call.size());
}

}  // namespace
}  // namespace b2b::b2bua::test
