// Requests inside a confirmed call, relayed from one leg's dialog to the other's and answered back.
#include "b2bua/core.hpp"

#include "b2bua/detail/sip_helpers.hpp"
#include "dialog/dialog.hpp"
#include "sip/message/text.hpp"
#include "sip/message/writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace b2b::b2bua {

using detail::allow_value;
using detail::header_value;

namespace {

constexpr leg_side other(leg_side s) noexcept {
    return s == leg_side::inbound ? leg_side::outbound : leg_side::inbound;
}

// What a relayed request carries over besides its body: what the far end needs to act on it
// (the INFO package, the event of a NOTIFY, what it accepts in return). Never anything that
// names the sender's topology (Via, Contact, Route, Record-Route, Call-ID, tags) or promises
// an extension we do not carry end to end (Supported, Require; Session-Expires and Min-SE are
// each leg's own, RFC 4028, and written anew).
bool relayed_request_header(const sip::header_field& h) {
    switch (h.id) {
        case sip::header_id::accept:
        case sip::header_id::content_disposition:
        case sip::header_id::content_encoding:
        case sip::header_id::event:
        case sip::header_id::subject:
            return true;
        default:
            return sip::iequals(h.name, "Info-Package") || sip::iequals(h.name, "Recv-Info") ||
                   sip::iequals(h.name, "Subscription-State") || sip::iequals(h.name, "Content-Language") ||
                   sip::iequals(h.name, "Priority");
    }
}

// What a relayed answer carries back: what lets the sender act on a refusal, and the answer's
// own description of its body.
bool relayed_response_header(const sip::header_field& h) {
    switch (h.id) {
        case sip::header_id::accept:
        case sip::header_id::content_disposition:
        case sip::header_id::content_encoding:
            return true;
        default:
            return detail::recovery_header(h) || sip::iequals(h.name, "Recv-Info");
    }
}

bool target_refresh(sip::method m) noexcept { return m == sip::method::invite || m == sip::method::update; }

}  // namespace

relayed_request* core::find_relay(call& c, std::uint64_t id) {
    auto it = std::find_if(c.relays.begin(), c.relays.end(), [id](const relayed_request& r) { return r.id == id; });
    return it == c.relays.end() ? nullptr : &*it;
}

void core::drop_relay(call& c, std::uint64_t id) {
    std::erase_if(c.relays, [id](const relayed_request& r) { return r.id == id; });
}

void core::relay_request(call& c, leg_side from, sip::transaction_id txn, sip::message&& req) {
    const bool invite = req.method() == sip::method::invite;
    if (invite) {
        for (const auto& r : c.relays) {
            if (r.request.method() != sip::method::invite) continue;
            if (r.from == from) {
                // §14.2: a second INVITE from the same side while its first is unanswered.
                return respond(txn, req, 500, "Server Internal Error", {}, {{"Retry-After", "1"}});
            }
            // §14.1: both sides re-INVITE at once (glare): the one that reaches us second loses.
            return respond(txn, req, 491, "Request Pending");
        }
        // Our own session refresh (a re-INVITE) is under way: the same glare (RFC 4028 §10).
        if (session_refresh_invite_pending(c)) return respond(txn, req, 491, "Request Pending");
    }
    if (target_refresh(req.method())) {
        // RFC 4028 §9: each leg's session interval is negotiated on that leg.
        if (refuse_short_session(c, from, txn, req)) return;
        note_peer_allow(c, from, req);
    }
    const leg_side to = other(from);
    dialog::dialog_state& live = to == leg_side::outbound ? c.out().dialog() : c.in.dialog;
    auto d = std::make_shared<dialog::dialog_state>(live);

    relayed_request& r = c.relays.emplace_back();
    r.id = c.next_relay++;
    r.from = from;
    r.server_txn = txn;
    r.request = std::move(req);
    if (invite) dialogs_.own(txn, from == leg_side::inbound ? c.inbound_usage : c.outbound_usage);

    // The request is built anew in the other dialog: its Request-URI, From, To, Call-ID, our
    // Via and Contact, its next CSeq; only the body and the headers that describe it cross.
    struct template_t {
        std::shared_ptr<dialog::dialog_state> d;
        std::string method;
        std::string body;
        std::string content_type;
        std::vector<std::string> lines;  // whole header lines ("Name: value")
        std::shared_ptr<dialog::session_timer_offer> timer;  // RFC 4028, the other leg's
        dialog::session_timer_headers timer_headers;
    };
    auto t = std::make_shared<template_t>();
    t->d = d;
    t->method = std::string(r.request.method_text());
    t->body = std::string(r.request.body());
    t->content_type = std::string(header_value(r.request, sip::header_id::content_type));
    for (const auto& h : r.request.headers()) {
        if (!relayed_request_header(h)) continue;
        std::string line(h.raw);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        t->lines.push_back(std::move(line));
    }
    if (target_refresh(r.request.method())) {
        // A refresh from one side refreshes the other leg too, with that leg's own interval.
        t->timer = leg_session_offer(c, to);
        r.session_offer = t->timer;
        note_sent_sdp(c, to, t->body, t->content_type);
    }
    // Providers challenge re-INVITEs too: answered here, unseen by the PBX.
    dialog::request_plan plan = plan_on(c, to, *d, t->method);
    plan.build = [t](std::string_view branch, std::string_view auth_name, std::string_view auth_value) {
        std::vector<std::pair<std::string_view, std::string_view>> extra;
        for (const auto& line : t->lines) {
            const auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            extra.emplace_back(sip::trim_lws(std::string_view(line).substr(0, colon)),
                               sip::trim_lws(std::string_view(line).substr(colon + 1)));
        }
        if (!auth_name.empty()) extra.emplace_back(auth_name, auth_value);
        if (t->method == "INVITE" || t->method == "UPDATE") extra.emplace_back("Allow", allow_value);
        if (t->timer) {
            extra.emplace_back("Supported", "timer");
            t->timer_headers = t->timer->headers();
            t->timer_headers.append_to(extra);
        }
        return dialog::make_in_dialog(*t->d, t->method, branch, 0, t->body, t->content_type, std::move(extra));
    };
    // RFC 4028 §7.4: the far end's 422 raises that leg's interval; the sender never sees it.
    if (t->timer) plan.retry = [t](const sip::message& rsp) { return t->timer->on_too_small(rsp); };
    auto sent = sender_->send(std::move(plan), [this, h = c.id, id = r.id](dialog::request_event& ev) {
        if (call* p = find(h)) on_relayed_event(*p, id, ev);
    });
    if (!sent) {
        log_->warn("call {}: {} not relayed: {}", c.id.value, r.request.method_text(), sent.error().message());
        answer_relayed(c, r, 503, "Service Unavailable", nullptr);
        if (invite) dialogs_.disown(txn);
        return drop_relay(c, r.id);
    }
    live.local_cseq = d->local_cseq;
    r.sent = std::move(*sent);
    log_->debug("call {}: {} relayed from the {} leg", c.id.value, r.request.method_text(),
                from == leg_side::inbound ? "inbound" : "outbound");
}

void core::answer_relayed(call& c, relayed_request& r, int status, std::string_view reason,
                          const sip::message* response) {
    sip::message_writer w = sip::response_writer(r.request, status, reason);
    if (response != nullptr) {
        for (const auto& h : response->headers()) {
            if (relayed_response_header(h)) w.raw_line(h.raw);
        }
    }
    const std::string_view body = response != nullptr ? response->body() : std::string_view{};
    const std::string_view type = response != nullptr ? header_value(*response, sip::header_id::content_type)
                                                      : std::string_view{};
    if (status >= 200 && status < 300 && target_refresh(r.request.method())) {
        // Our Contact on the sender's leg (§12.1.1): the far end's stays on its own leg.
        const auto& self = r.from == leg_side::inbound ? c.in.dialog.self : c.out().dialog().self;
        w.header(sip::header_id::contact, self.contact());
        w.header("Allow", allow_value);
        // RFC 4028 §9: the 2xx refreshes the sender's leg, with that leg's own interval.
        answer_session_timer(c, r.from, r.request, w);
        note_sent_sdp(c, r.from, body, type);
    }
    if (auto ec = txm_->respond(r.server_txn, status, std::move(w).finish(body, type))) {
        log_->debug("call {}: answer to the relayed {} not sent: {}", c.id.value, r.request.method_text(),
                    ec.message());
    }
}

void core::on_relayed_event(call& c, std::uint64_t id, dialog::request_event& ev) {
    relayed_request* r = find_relay(c, id);
    if (r == nullptr) return;
    const bool invite = r->request.method() == sip::method::invite;
    if (ev.failure) {
        if (*ev.failure == sip::transaction_failure::timeout) {
            answer_relayed(c, *r, 408, "Request Timeout", nullptr);
        } else {
            answer_relayed(c, *r, 503, "Service Unavailable", nullptr);
        }
        if (invite) dialogs_.disown(r->server_txn);
        return drop_relay(c, id);
    }
    const sip::message& rsp = *ev.response;
    const int status = rsp.status();
    // A re-send after a challenge took the next CSeq in the builder's copy of the dialog: later
    // requests on that leg go above it (§12.2.1.1), or the far end answers them 500.
    dialog::dialog_state& sent_on = r->from == leg_side::inbound ? c.out().dialog() : c.in.dialog;
    sent_on.local_cseq = std::max(sent_on.local_cseq, rsp.cseq().seq);
    if (status == 100) return;  // hop by hop
    if (status < 200) return answer_relayed(c, *r, status, rsp.reason(), &rsp);
    if (r->awaiting_ack) return;  // a retransmitted 2xx: the sender re-ACKs it once we did

    dialog::dialog_state& far = r->from == leg_side::inbound ? c.out().dialog() : c.in.dialog;
    dialog::dialog_state& near = r->from == leg_side::inbound ? c.in.dialog : c.out().dialog();
    if (status < 300 && target_refresh(r->request.method())) {
        // §12.2: both targets follow the refresh.
        dialog::refresh_target(far, rsp);
        dialog::refresh_target(near, r->request);
        // RFC 4028 §7.2: the other leg's timer follows the 2xx.
        session_timer_answered(c, other(r->from), rsp, r->session_offer ? r->session_offer->interval : 0);
    }
    if (ev.auth_failure && (status == 401 || status == 407)) {
        // The provider's challenge names its realm: it never reaches the PBX.
        answer_relayed(c, *r, 503, "Service Unavailable", nullptr);
    } else {
        answer_relayed(c, *r, status, rsp.reason(), &rsp);
    }
    if (invite && status < 300) {
        // The far end's 2xx is ACKed when the sender ACKs ours: an offer in the 2xx gets its
        // answer from that ACK (§13.2.1, RFC 3264).
        r->awaiting_ack = true;
        r->sent_cseq = rsp.cseq().seq;
        return;
    }
    if (invite) dialogs_.disown(r->server_txn);
    drop_relay(c, id);
}

void core::relay_ack(call& c, leg_side from, const sip::message* ack) {
    auto it = std::find_if(c.relays.begin(), c.relays.end(),
                           [&](const relayed_request& r) { return r.from == from && r.awaiting_ack; });
    if (it == c.relays.end()) return;  // a retransmitted ACK, or one for nothing we relayed
    relayed_request& r = *it;
    if (ack != nullptr && ack->cseq().seq != r.request.cseq().seq) return;
    txm_->ack_received(r.server_txn);
    const leg_side to = other(from);
    dialog::dialog_state& d = to == leg_side::outbound ? c.out().dialog() : c.in.dialog;
    const std::string_view body = ack != nullptr ? ack->body() : std::string_view{};
    const std::string_view type = ack != nullptr ? header_value(*ack, sip::header_id::content_type) : std::string_view{};
    note_sent_sdp(c, to, body, type);
    if (auto ec = sender_->acknowledge(r.sent, d, r.sent_cseq, body, type)) {
        log_->warn("call {}: ACK of the relayed re-INVITE not sent: {}", c.id.value, ec.message());
    }
    dialogs_.disown(r.server_txn);
    drop_relay(c, r.id);
}

}  // namespace b2b::b2bua
