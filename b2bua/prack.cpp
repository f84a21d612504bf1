// Reliable provisional responses through the bridge (RFC 3262): PRACK on each leg, 100rel only where both can.
//
// Each leg keeps its own reliability, hop by hop: towards the caller we are the UAS and send
// its provisionals reliably (our RSeq, our retransmissions, its PRACK answered here); towards
// the far end we are the UAC and PRACK its reliable provisionals ourselves. Our INVITE says
// `Supported: 100rel` only when the caller's did (or required it), so the far end is never
// promised what the caller cannot do. The one exchange that crosses is offer/answer (§5): when
// the far end's reliable provisional carries an offer (the caller's INVITE had none), the
// answer can only come from the caller, in its PRACK, so our PRACK to the far end waits for
// it and carries it, and the far end's answer to our PRACK answers the caller's.
//
// Choices where the two legs disagree:
// - Caller requires 100rel, far end sends unreliable provisionals: they go on reliably (§3
//   requires it). Their SDP goes with them when the caller's INVITE had an offer (it is the
//   far end's answer, which its 2xx repeats, RFC 3261 §13.2.1); after an offerless INVITE it is
//   left out, since a reliable provisional with SDP would be an offer whose answer (in the
//   caller's PRACK) has nowhere to go: the offer then comes in the 2xx as usual.
// - Far end sends reliable provisionals to an INVITE that never offered 100rel (the caller
//   lacks it): we PRACK them ourselves and the caller gets them unreliably. If one carries an
//   offer, our PRACK carries no answer (none can exist: the caller cannot send PRACK); the
//   offer reaches the caller as an unreliable preview and the 2xx completes it (§5 asks the far
//   end for that answer; it broke §3 first).
// - An offer in the caller's PRACK (§5 allows one) is not carried: answered 488; UPDATE once
//   the call is up does the same job.
#include "b2bua/core.hpp"

#include "b2bua/detail/sip_helpers.hpp"
#include "dialog/dialog.hpp"
#include "sip/message/random.hpp"
#include "sip/message/writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

namespace b2b::b2bua {

using detail::copy_record_route;
using detail::header_value;
using dialog::session_event;

namespace {

// §3: the first RSeq of a transaction is random in 1..2^31-1, so a PRACK for an old
// transaction is unlikely to match a new one.
std::uint32_t first_rseq() {
    std::array<std::uint8_t, 4> b{};
    sip::random_bytes(b);
    const std::uint32_t v = (std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3]) &
                            0x7fffffffu;
    return v == 0 ? 1 : v;
}

constexpr std::size_t max_queued_provisionals = 16;

}  // namespace

void core::init_reliability(call& c) {
    const bool required = dialog::names_100rel(*c.in.invite, sip::header_id::require);
    if (!required && !dialog::names_100rel(*c.in.invite, sip::header_id::supported)) return;
    auto r = std::make_unique<inbound_reliability>();
    r->required = required;
    r->uas.emplace(first_rseq(), cfg_.sip.t1);
    c.in.reliability = std::move(r);
}

void core::on_outbound_provisional(call& c, const sip::message& rsp) {
    outbound_attempt& a = c.out();
    std::optional<owed_prack> owed;
    const auto rseq = dialog::reliable_rseq(rsp);
    const bool reliable = rseq && !rsp.to().tag.empty();
    if (reliable) {
        const auto verdict = a.reliability.order.on_reliable(rsp.to().tag, *rseq);
        if (verdict != dialog::reliable_provisional_uac::verdict::in_order) {
            // §4: a retransmission (our PRACK's own transaction retransmits until it is
            // answered) or one out of order: neither PRACKed nor relayed.
            log_->debug("call {}: reliable {} with RSeq {} dropped ({})", c.id.value, rsp.status(), *rseq,
                        verdict == dialog::reliable_provisional_uac::verdict::duplicate ? "repeat" : "out of order");
            return;
        }
        // The early dialog our PRACK goes in (§12.1.2, RFC 3262 §4): its route set and target
        // from this response, CSeq numbers after the INVITE's.
        auto early = std::find_if(a.reliability.early.begin(), a.reliability.early.end(),
                                  [&](const auto& d) { return d->remote_tag() == rsp.to().tag; });
        if (early == a.reliability.early.end()) {
            auto d = std::make_shared<dialog::dialog_state>(a.own_side());
            dialog::update_uac_dialog(*d, rsp);
            d->local_cseq = std::max(d->local_cseq, rsp.cseq().seq);
            aim(a, *d);
            a.reliability.early.push_back(std::move(d));
        }
        // §5: after an INVITE without an offer, the first SDP in a reliable provisional is the
        // far end's offer, and the answer belongs in the PRACK.
        const bool offer = c.in.invite->body().empty() && !rsp.body().empty() && !a.reliability.sdp_received;
        if (!rsp.body().empty()) a.reliability.sdp_received = true;
        const owed_prack p{std::string(rsp.to().tag), *rseq, rsp.cseq().seq};
        if (offer && c.state == call_state::calling && c.in.supports_100rel()) {
            owed = p;  // the caller's PRACK brings the answer
        } else {
            send_prack(c, p, {}, {}, false);
        }
    }
    if (c.state != call_state::calling) return;
    // §3: reliably when the caller requires it, or supports it and the far end sent it so.
    const inbound_reliability* in = c.in.reliability.get();
    if (in != nullptr && (in->required || reliable)) {
        return send_reliable_provisional(c, rsp, reliable, std::move(owed));
    }
    relay_provisional(c, rsp);
}

void core::send_reliable_provisional(call& c, const sip::message& rsp, bool far_end_reliable,
                                     std::optional<owed_prack> owed) {
    inbound_reliability& r = *c.in.reliability;  // only when the caller supports 100rel
    if (!r.uas->can_send()) {
        // §3: not before the previous one is PRACKed: it waits its turn.
        if (r.queue.size() >= max_queued_provisionals) {
            log_->debug("call {}: provisional {} dropped: {} already wait for a PRACK", c.id.value, rsp.status(),
                        r.queue.size());
            if (owed) send_prack(c, *owed, {}, {}, false);
            return;
        }
        auto copy = sip::parse_message(rsp.wire());
        if (!copy) return;
        r.queue.push_back({std::move(*copy), std::move(owed)});
        return;
    }
    // See the file comment: an unreliable provisional's SDP after an offerless INVITE stays out.
    const bool with_sdp = !rsp.body().empty() && (far_end_reliable || !c.in.invite->body().empty());
    const auto rseq = r.uas->send(with_sdp);
    c.in.session.on(session_event::provisional_sent);
    sip::message_writer w = sip::response_writer(*c.in.invite, rsp.status(), rsp.reason(), c.in.tag);
    copy_record_route(w, *c.in.invite);
    w.header(sip::header_id::contact, dialog::make_identity(c.in.flow, cfg_.sip.advertised_host, c.in.invite->request_uri().is_sips()).contact());
    w.header(sip::header_id::require, dialog::option_100rel);
    w.header("RSeq", std::to_string(*rseq));
    r.status = rsp.status();
    r.bytes = with_sdp ? std::move(w).finish(rsp.body(), header_value(rsp, sip::header_id::content_type))
                       : std::move(w).finish();
    r.owed = std::move(owed);
    if (auto ec = txm_->respond(c.in.txn, r.status, r.bytes)) {
        log_->debug("call {}: reliable provisional to the caller not sent: {}", c.id.value, ec.message());
    }
    timers_.cancel(r.timer);
    r.timer = timers_.schedule(r.uas->next_timer(), [this, h = c.id] { on_reliable_timer(h); });
}

void core::on_reliable_timer(call_handle h) {
    call* c = find(h);
    if (c == nullptr || !c->in.reliability) return;
    inbound_reliability& r = *c->in.reliability;
    r.timer = 0;
    // Once the INVITE has its final response there is no provisional left to send (§3 ends
    // with the final response; a PRACK that still comes is matched all the same).
    if (c->in.session.has_final() || !r.uas) return;
    switch (r.uas->on_timer()) {
        case dialog::reliable_provisional_uas::timer_action::none:
            return;
        case dialog::reliable_provisional_uas::timer_action::retransmit:
            metrics_.on_retransmission(true);
            (void)txm_->respond(c->in.txn, r.status, r.bytes);
            r.timer = timers_.schedule(r.uas->next_timer(), [this, h] { on_reliable_timer(h); });
            return;
        case dialog::reliable_provisional_uas::timer_action::give_up:
            // §3: never PRACKed in 64*T1: the INVITE is rejected with a 5xx.
            log_->info("call {}: reliable {} (RSeq {}) never PRACKed by the caller", h.value, r.status,
                       r.uas->last_rseq());
            if (c->state == call_state::calling) {
                cancel_outbound(*c, 500, "Reliable Provisional Response Not Acknowledged", call_result::error);
            }
            return;
    }
}

void core::on_prack(call& c, leg_side side, sip::transaction_id txn, sip::message&& prack) {
    // We send reliable provisionals on the inbound leg only: on the other, no PRACK matches.
    if (side == leg_side::outbound || !c.in.reliability || !c.in.reliability->uas) {
        return respond(txn, prack, 481, "Call/Transaction Does Not Exist");
    }
    inbound_reliability& r = *c.in.reliability;
    const auto* h = prack.find("RAck");
    const auto rack = h != nullptr ? dialog::parse_rack(h->value) : std::nullopt;
    if (!rack) return respond(txn, prack, 400, "Missing or Malformed RAck");
    // §7.2: a PRACK that matches no unacknowledged reliable provisional gets 481.
    if (!r.uas->on_prack(*rack, c.in.invite_cseq)) {
        log_->debug("call {}: PRACK {} {} matches nothing", c.id.value, rack->rseq, rack->cseq);
        return respond(txn, prack, 481, "Call/Transaction Does Not Exist");
    }
    timers_.cancel(r.timer);
    r.timer = 0;
    r.bytes.clear();
    if (auto owed = std::exchange(r.owed, std::nullopt)) {
        // §5: the answer to the far end's offer is in this PRACK: it goes on in ours, and the
        // far end's answer to ours answers this one.
        r.prack = std::make_unique<inbound_reliability::relayed>(inbound_reliability::relayed{txn, std::move(prack)});
        const sip::message& req = r.prack->request;
        send_prack(c, *owed, req.body(), header_value(req, sip::header_id::content_type), true);
    } else if (!prack.body().empty()) {
        respond(txn, prack, 488, "Not Acceptable Here");  // an offer in a PRACK: not carried
    } else {
        respond(txn, prack, 200, "OK");
    }
    after_prack(c);
}

void core::send_prack(call& c, const owed_prack& owed, std::string_view body, std::string_view content_type,
                      bool relay) {
    outbound_attempt& a = c.out();
    auto early = std::find_if(a.reliability.early.begin(), a.reliability.early.end(),
                              [&](const auto& d) { return d->remote_tag() == owed.tag; });
    if (early == a.reliability.early.end()) return;
    // §7.1: PRACK goes in the early dialog with RAck = RSeq, CSeq number and method of the
    // provisional. Providers challenge it like any request: the sender answers.
    struct template_t {
        std::shared_ptr<dialog::dialog_state> d;
        std::string rack;
        std::string body;
        std::string content_type;
    };
    auto t = std::make_shared<template_t>(
        template_t{*early, dialog::make_rack(owed.rseq, owed.cseq), std::string(body), std::string(content_type)});
    dialog::request_plan plan = plan_on(c, leg_side::outbound, *t->d, "PRACK");
    plan.build = [t](std::string_view branch, std::string_view auth_name, std::string_view auth_value) {
        std::vector<std::pair<std::string_view, std::string_view>> extra;
        extra.emplace_back("RAck", t->rack);
        if (!auth_name.empty()) extra.emplace_back(auth_name, auth_value);
        return dialog::make_in_dialog(*t->d, "PRACK", branch, 0, t->body, t->content_type, std::move(extra));
    };
    dialog::request_handler on_answer;
    if (relay) {
        on_answer = [this, h = c.id](dialog::request_event& ev) {
            if (call* p = find(h)) on_prack_answered(*p, ev);
        };
    }
    auto sent = sender_->send(std::move(plan), std::move(on_answer));
    if (!sent) {
        log_->warn("call {}: PRACK to the trunk not sent: {}", c.id.value, sent.error().message());
        if (relay) {
            dialog::request_event failed;
            failed.failure = sip::transaction_failure::transport_error;
            on_prack_answered(c, failed);
        }
        return;
    }
    c.requests.push_back(std::move(*sent));
}

void core::on_prack_answered(call& c, dialog::request_event& ev) {
    if (ev.response != nullptr && ev.response->status() < 200) return;
    if (!c.in.reliability) return;
    auto& pending = c.in.reliability->prack;
    if (!pending) return;
    const sip::message& req = pending->request;
    if (ev.failure) {
        respond(pending->txn, req, *ev.failure == sip::transaction_failure::timeout ? 408 : 503,
                *ev.failure == sip::transaction_failure::timeout ? "Request Timeout" : "Service Unavailable");
    } else if (ev.auth_failure && (ev.response->status() == 401 || ev.response->status() == 407)) {
        respond(pending->txn, req, 503, "Service Unavailable");  // the provider's realm stays on its leg
    } else {
        const sip::message& rsp = *ev.response;
        sip::message_writer w = sip::response_writer(req, rsp.status(), rsp.reason());
        for (const auto& f : rsp.headers()) {
            if (detail::recovery_header(f)) w.raw_line(f.raw);
        }
        auto bytes = std::move(w).finish(rsp.body(), header_value(rsp, sip::header_id::content_type));
        if (auto ec = txm_->respond(pending->txn, rsp.status(), std::move(bytes))) {
            log_->debug("call {}: answer to the PRACK not sent: {}", c.id.value, ec.message());
        }
    }
    pending.reset();
}

bool core::hold_back_2xx(call& c, const sip::message& rsp) {
    if (!c.in.reliability) return false;
    inbound_reliability& r = *c.in.reliability;
    if (!r.uas || !r.uas->holds_back_2xx()) return false;
    // §3: no 2xx while a reliable provisional with SDP is unacknowledged.
    auto copy = sip::parse_message(rsp.wire());
    if (!copy) return false;
    log_->debug("call {}: 2xx held back until the caller PRACKs RSeq {}", c.id.value, r.uas->last_rseq());
    r.held_2xx = std::make_unique<sip::message>(std::move(*copy));
    // The far end's 2xx is ACKed now, which stops its retransmissions while we wait. Its ACK
    // can carry no SDP here: a provisional with SDP went to the caller reliably only as the
    // answer to the caller's offer, or as the far end's offer answered by the caller's PRACK
    // (which releases the 2xx), so offer/answer is complete before this 2xx (RFC 3262 §5).
    send_outbound_ack(c);
    return true;
}

void core::after_prack(call& c) {
    if (c.state != call_state::calling || c.in.session.has_final() || !c.in.reliability) return;
    inbound_reliability& r = *c.in.reliability;
    if (r.held_2xx && !r.uas->holds_back_2xx()) {
        // The final answer supersedes the provisionals still waiting; a PRACK owed with them
        // goes without an answer.
        for (auto& q : r.queue) {
            if (q.owed) send_prack(c, *q.owed, {}, {}, false);
        }
        r.queue.clear();
        const sip::message rsp = std::move(*r.held_2xx);
        r.held_2xx.reset();
        if (c.out().session.state() != dialog::session_state::confirmed) {
            // The far end hung up while its 2xx waited: the caller never had the call.
            answer_inbound(c, 480, "Temporarily Unavailable", call_result::rejected);
            c.end_reason = "BYE from the far end before the caller's PRACK";
            return maybe_end(c);
        }
        return answer_caller(c, rsp);
    }
    if (!r.queue.empty() && r.uas->can_send()) {
        auto q = std::move(r.queue.front());
        r.queue.erase(r.queue.begin());
        send_reliable_provisional(c, q.response, dialog::reliable_rseq(q.response).has_value(), std::move(q.owed));
    }
}

void core::end_reliability(call& c) {
    if (!c.in.reliability) return;
    inbound_reliability& r = *c.in.reliability;
    timers_.cancel(r.timer);
    // §15.1.2 in spirit: nothing pending in the dialog is left unanswered.
    if (r.prack) respond(r.prack->txn, r.prack->request, 487, "Request Terminated");
    c.in.reliability.reset();
}

void core::release_reliability(call& c) {
    // A PRACK of the caller's still with the far end is answered when it comes back (or when
    // the call ends); anything else ended with the final answer (§3).
    if (!c.in.reliability || c.in.reliability->prack) return;
    timers_.cancel(c.in.reliability->timer);
    c.in.reliability.reset();
}

}  // namespace b2b::b2bua
