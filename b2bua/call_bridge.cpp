// A call as a bridge: what each leg's events do to the other leg, and the call's own machine.
#include "b2bua/core.hpp"

#include "b2bua/caller_identity.hpp"
#include "b2bua/detail/sip_helpers.hpp"
#include "dialog/dialog.hpp"
#include "routing/failover.hpp"
#include "sip/message/text.hpp"
#include "sip/message/writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace b2b::b2bua {

using detail::allow_value;
using detail::copy_record_route;
using detail::header_value;
using detail::key_of;
using dialog::session_event;
using dialog::session_state;

void core::count_setup(call& c, call_result result) {
    c.result = result;
    metrics_.call_setup_time(c.direction, timers_.now() - c.started);
    metrics_.call_setup(c.direction, c.direction == call_direction::inbound ? c.source_trunk : c.out().trunk_index,
                        result);
}

bool core::start_attempt(call& c, std::size_t trunk_index, std::string_view number, std::string_view caller,
                         std::string_view display, const registered_destination* registered,
                         const sip::resolver::target* where) {
    std::shared_ptr<const routing::trunk> trunk = peer_of(trunk_index);
    // A registered PBX goes where it registered from; a trunk where its targets say (RFC 3263:
    // DNS for a trunk named by host); a PBX of an inbound route where its uri says.
    std::optional<sip::resolver::target> chosen;
    if (registered != nullptr) {
        chosen = sip::resolver::target{registered->transport, registered->address};
    } else if (where != nullptr) {
        chosen = *where;
    } else if (is_trunk(trunk_index)) {
        chosen = targets_->preferred(trunk_index);
    } else {
        chosen = sip::resolver::target{trunk->transport, trunk->address};
    }
    if (registered != nullptr) {
        // The route's PBX (its name, credentials, identity policy) where it registered from.
        auto at = std::make_shared<routing::trunk>(*trunk);
        at->uri = registered->contact;
        at->transport = registered->transport;
        at->address = registered->address;
        at->domain = registered->address.to_string();
        at->host = registered->address.address.to_string();
        at->sips = false;
        trunk = std::move(at);
    }
    if (!chosen) {
        log_->warn("call {}: trunk {} has no target yet: DNS for {} has not answered", c.id.value, trunk->name,
                   trunk->dns_host);
        c.attempts.emplace_back().trunk_index = trunk_index;
        c.out().trunk = trunk;
        c.out().session.on(session_event::failure_received);
        return false;
    }
    auto flow = registered != nullptr && registered->pinned
                    ? boost::system::result<sip::flow>(*registered->pinned)
                    : transport_.flow_to_host(chosen->transport, chosen->address, trunk->host);
    if (!flow) {
        log_->error("call {}: no {} transport towards trunk {} ({})", c.id.value, sip::to_string(trunk->transport),
                    trunk->name, flow.error().message());
        c.attempts.emplace_back().trunk_index = trunk_index;
        c.out().trunk = trunk;
        c.out().session.on(session_event::failure_received);
        return false;
    }
    outbound_attempt& a = c.attempts.emplace_back();
    a.trunk = trunk;
    a.trunk_index = trunk_index;
    a.destination = chosen->address;
    a.pinned = registered != nullptr && registered->pinned.has_value();

    // The outbound leg is a new dialog. Only the caller's and the dialled user parts (caller ID
    // and number) and the caller's display name cross over; hosts, ports, tags, parameters,
    // Call-ID, Via, Contact and Record-Route of the inbound leg stay there.
    dialog::dialog_state d;
    d.self = dialog::make_identity(*flow, cfg_.sip.advertised_host, trunk->sips);
    d.flow = *flow;
    // Over a stream, a connection that is gone by the time we send is opened again to the
    // peer's address (§18.1.1): the target this attempt went to (a trunk named by host has no
    // address of its own), or a registered PBX's Contact unless it is behind
    // NAT, where only the connection it opened reached it (RFC 5626 §5.3).
    if (flow->reliable()) d.reconnect = registered != nullptr ? registered->reconnect : chosen->address;
    d.call_id = tokens_.hex(16);
    const std::string tag = tokens_.tag();
    const std::string& from_host = trunk->from_domain.empty() ? d.self.host_port : trunk->from_domain;
    auto identity = make_caller_identity(*c.in.invite, *trunk, caller, from_host);
    a.identity_headers = std::move(identity.headers);
    d.local.clear();
    if (!display.empty()) {
        d.local += display;
        d.local += ' ';
    }
    d.local += "<sip:";
    d.local += identity.from_user;
    d.local += '@';
    d.local += from_host;
    d.local += ">;tag=";
    d.local += tag;
    // §8.1.1.1: to a registered PBX the Request-URI is the Contact it registered (it may carry
    // a user part or parameters by which the PBX recognises its own binding).
    d.remote_target = registered != nullptr ? registered->contact : routing::request_uri_at(*trunk, number);
    // RFC 3327 §5.3 (RFC 3261 §8.1.2): the Path it registered through is the preloaded Route
    // set, until the answer's Record-Route makes the dialog's own (§12.1.2).
    if (registered != nullptr) d.route_set = registered->route_set;
    d.remote = "<sip:" + std::string(number) + "@" + trunk->domain + ">";
    log_->debug("call {}: attempt {} via trunk {} at {} (call-id {})", c.id.value, c.attempts.size(), trunk->name,
                chosen->to_string(), d.call_id);
    dialogs_.add(key_of(d), c.outbound_usage);
    a.dialogs.emplace(std::move(d));
    return send_outbound_invite(c);
}

bool core::send_outbound_invite(call& c) {
    outbound_attempt& a = c.out();
    // Every send (the first, and one per answered challenge) is built from the same dialog
    // with the next CSeq (§22.2). The builder keeps its own copy of what it needs, so it
    // never reaches into a call that may have ended.
    struct invite_template {
        dialog::dialog_state d;
        unsigned max_forwards;
        std::string body;
        std::string content_type;
        std::vector<std::pair<std::string, std::string>> identity;
        std::shared_ptr<dialog::session_timer_offer> timer;  // RFC 4028 §7.1; a 422 raises it
        dialog::session_timer_headers timer_headers;
        bool rel100;
    };
    auto t = std::make_shared<invite_template>(invite_template{a.own_side(), c.max_forwards, std::string(c.in.invite->body()),
                                                               c.content_type, a.identity_headers,
                                                               outbound_session_offer(c), {}, c.in.supports_100rel()});
    a.refresh.offer = t->timer;
    note_sent_sdp(c, leg_side::outbound, t->body, t->content_type);
    dialog::request_plan plan = plan_on(c, leg_side::outbound, a.own_side(), "INVITE");
    plan.build = [t](std::string_view branch, std::string_view auth_name, std::string_view auth_value) {
        dialog::outgoing_request r;
        r.method = "INVITE";
        r.request_uri = t->d.remote_target;
        r.from = t->d.local;
        r.to = t->d.remote;
        r.call_id = t->d.call_id;
        r.cseq = ++t->d.local_cseq;
        r.branch = branch;
        r.max_forwards = t->max_forwards;
        if (!t->d.route_set.empty()) r.route_set = &t->d.route_set;
        r.extra_headers.emplace_back("Allow", allow_value);
        for (const auto& [name, value] : t->identity) r.extra_headers.emplace_back(name, value);
        // RFC 3262 §4: reliable provisionals only when the caller can have them too.
        r.extra_headers.emplace_back("Supported", t->rel100 ? "timer, 100rel" : "timer");
        t->timer_headers = t->timer->headers();
        t->timer_headers.append_to(r.extra_headers);
        if (!auth_name.empty()) r.extra_headers.emplace_back(auth_name, auth_value);
        r.body = t->body;
        r.content_type = t->content_type;
        return dialog::make_request(r, t->d.self);
    };
    plan.retry = [t](const sip::message& rsp) { return t->timer->on_too_small(rsp); };  // RFC 4028 §7.4
    // A challenge (or a 422) answered by the sender shows the trunk is there: the INVITE sent
    // again gets a full invite_timeout_ms for its own first provisional.
    if (a.id == 0) a.id = ++next_attempt_;
    plan.on_resent = [this, h = c.id, id = a.id] {
        call* p = find(h);
        if (p != nullptr && p->out().id == id && p->out().invite_timer != 0) arm_invite_timer(*p);
    };
    auto sent = sender_->send(std::move(plan), [this, h = c.id, id = a.id](dialog::request_event& ev) {
        // An INVITE given up for its silence may still answer; otherwise only the call's
        // current attempt hears its responses.
        if (abandoned_.contains(id)) return on_abandoned_invite_event(id, ev);
        call* p = find(h);
        if (p != nullptr && p->out().id == id) on_outbound_invite_event(*p, ev);
    });
    if (!sent) {
        log_->warn("call {}: outbound INVITE not sent: {}", c.id.value, sent.error().message());
        a.session.on(session_event::failure_received);
        return false;
    }
    a.invite = std::move(*sent);
    a.session.on(session_event::invite_sent, !c.in.invite->body().empty());
    return true;
}

// ---------------------------------------------------------------------- in-dialog requests

void core::on_leg_request(call_handle h, leg_side side, sip::transaction_id txn, sip::message&& req,
                          const sip::flow&) {
    call* c = find(h);
    if (c == nullptr) return respond(txn, req, 481, "Call/Transaction Does Not Exist");
    // The dialog is the Call-ID and both tags (§12): our tag found the call; theirs must match.
    const bool theirs = side == leg_side::inbound
                            ? req.from().tag == c->in.caller_tag()
                            : c->out().dialogs && c->out().dialogs->is_confirmed() &&
                                  req.from().tag == c->out().dialog().remote_tag();
    if (!theirs) return respond(txn, req, 481, "Call/Transaction Does Not Exist");
    if (!acceptable(txn, req, true)) return;
    dialog::dialog_state& d = side == leg_side::inbound ? c->in.dialog : c->out().dialog();
    if (!dialog::accept_remote_cseq(d, req)) {
        // §12.2.2: an out-of-order request in the dialog.
        return respond(txn, req, 500, "Server Internal Error");
    }
    switch (req.method()) {
        case sip::method::bye:
            respond(txn, req, 200, "OK");
            return side == leg_side::inbound ? on_bye_from_inbound(*c) : on_bye_from_outbound(*c);
        case sip::method::prack:
            return on_prack(*c, side, txn, std::move(req));
        case sip::method::refer:
            // A relayed Refer-To would hand one side an address of the other's: transfers
            // are the B2BUA's own business (not done yet), so REFER is refused.
            return respond(txn, req, 403, "Forbidden", {}, {{"Allow", allow_value}});
        case sip::method::invite:
        case sip::method::update:
        case sip::method::info:
        case sip::method::options:
        case sip::method::message:
        case sip::method::notify:
            if (c->state == call_state::confirmed) return relay_request(*c, side, txn, std::move(req));
            if (req.method() == sip::method::options) {
                return respond(txn, req, 200, "OK", {}, {{"Allow", allow_value}, {"Accept", "application/sdp"}});
            }
            // Before both legs are up there is no dialog on the other side to carry it.
            if (req.method() == sip::method::invite) {
                return respond(txn, req, 491, "Request Pending", {}, {{"Retry-After", "2"}});
            }
            return respond(txn, req, 501, "Not Implemented", {}, {{"Allow", allow_value}});
        default:
            return respond(txn, req, 501, "Not Implemented", {}, {{"Allow", allow_value}});
    }
}

void core::on_leg_cancel(call_handle h, leg_side side, sip::transaction_id txn, const sip::message& cancel,
                         sip::transaction_id invite, bool answered) {
    call* c = find(h);
    if (c != nullptr && invite != c->in.txn) {
        // A re-INVITE being relayed: the CANCEL goes on to the other leg's INVITE (§9.2).
        respond(txn, cancel, 200, "OK");
        for (auto& r : c->relays) {
            if (r.from != side || r.server_txn != invite || answered) continue;
            if (const auto t = dialog::request_sender::current_transaction(r.sent); t != 0) txm_->cancel(t);
        }
        return;
    }
    // §9.2: the 200 to a CANCEL carries the To tag of the INVITE's responses. A CANCEL that
    // crossed our final response still matched its transaction: 200, and no effect.
    respond(txn, cancel, 200, "OK", c != nullptr ? c->in.our_tag() : std::string_view{});
    if (c == nullptr || answered || c->state != call_state::calling) return;
    log_->info("call {}: cancelled by the caller", h.value);
    cancel_outbound(*c, 487, "Request Terminated", call_result::cancelled);
}

void core::on_invite_failure(call_handle h, leg_side side, sip::transaction_id invite, sip::transaction_failure why) {
    call* c = find(h);
    if (c == nullptr) return;
    if (invite == c->in.txn) return on_inbound_failure(*c, why);
    // A re-INVITE we answered 2xx was never ACKed (§13.3.1.4), or its answer could not be
    // sent: the session is in doubt, so the call ends on both legs (the other leg first gets
    // the ACK it is owed).
    for (auto& r : c->relays) {
        if (r.from != side || r.server_txn != invite) continue;
        log_->info("call {}: re-INVITE on the {} leg failed ({})", h.value,
                   side == leg_side::inbound ? "inbound" : "outbound", sip::to_string(why));
        if (r.awaiting_ack) relay_ack(*c, side, nullptr);
        break;
    }
    if (c->state == call_state::confirmed) hang_up(*c, "re-INVITE not acknowledged");
}

void core::on_bye_from_inbound(call& c) {
    if (c.hangup_by == hangup_party::none) c.hangup_by = hangup_party::caller;
    log_->debug("call {}: BYE from the inbound side in state {}", c.id.value, to_string(c.state));
    c.in.session.on(session_event::bye_received);
    switch (c.state) {
        case call_state::calling:
            // A BYE on an early dialog ends the attempt like a CANCEL (§15).
            cancel_outbound(c, 487, "Request Terminated", call_result::cancelled);
            return;
        case call_state::answered:
            // The caller hung up before its ACK reached us: stop resending the 2xx, and
            // confirm the outbound leg before ending it (the far end needs its ACK).
            txm_->ack_received(c.in.txn);
            send_outbound_ack(c);
            [[fallthrough]];
        case call_state::confirmed:
            c.end_reason = "BYE from the caller";
            c.state = call_state::ending;
            send_bye(c, leg_side::outbound);
            return maybe_end(c);
        case call_state::cancelling:
        case call_state::ending:
            return maybe_end(c);  // already on its way out
    }
}

void core::on_bye_from_outbound(call& c) {
    if (c.hangup_by == hangup_party::none) c.hangup_by = hangup_party::callee;
    log_->debug("call {}: BYE from the outbound side in state {}", c.id.value, to_string(c.state));
    // Its 2xx is owed an ACK even when the BYE overtook it (§13.2.2.4).
    if (c.state == call_state::answered) send_outbound_ack(c);
    c.out().session.on(session_event::bye_received);
    switch (c.state) {
        case call_state::answered:
            // The far end hung up before the caller's ACK: our BYE goes to the caller once its
            // ACK arrives (§15: not before), or when it never does.
            c.end_reason = "BYE from the far end";
            c.state = call_state::ending;
            return;
        case call_state::confirmed:
            c.end_reason = "BYE from the far end";
            c.state = call_state::ending;
            send_bye(c, leg_side::inbound);
            return maybe_end(c);
        case call_state::calling:
        case call_state::cancelling:
        case call_state::ending:
            return maybe_end(c);
    }
}

void core::on_leg_ack(call_handle h, leg_side side, sip::message&& ack) {
    call* c = find(h);
    if (c == nullptr) return;
    if (ack.cseq().seq != c->in.invite_cseq || side != leg_side::inbound) {
        return relay_ack(*c, side, &ack);  // the ACK of a re-INVITE's 2xx
    }
    if (ack.from().tag != c->in.caller_tag()) return;
    if (!c->in.session.on(session_event::ack_received, !ack.body().empty())) return;  // a retransmission
    txm_->ack_received(c->in.txn);
    if (c->state == call_state::ending) {
        // The far end hung up while the caller's ACK was on its way.
        send_bye(*c, leg_side::inbound);
        return maybe_end(*c);
    }
    // The ACK may carry the SDP answer (delayed offer): it goes on to the far end.
    send_outbound_ack(*c, ack.body(), header_value(ack, sip::header_id::content_type));
    note_sent_sdp(*c, leg_side::outbound, ack.body(), header_value(ack, sip::header_id::content_type));
    c->state = call_state::confirmed;
    // Answered and acknowledged: nothing more is built from the caller's INVITE.
    c->in.invite.reset();
    std::string().swap(c->in.tag);  // the dialog has it (our_tag)
    c->plan.reset();  // no failover or redirect for a call that is up
    release_reliability(*c);
    start_max_duration(*c);
}

void core::on_inbound_failure(call& c_ref, sip::transaction_failure why) {
    call* c = &c_ref;
    log_->info("call {}: inbound side failed ({})", c->id.value, sip::to_string(why));
    if (c->state == call_state::answered) {
        // §13.3.1.4: no ACK for 64*T1: the dialog is confirmed but the session ends, with a BYE
        // on both legs (the outbound one first gets the ACK it is owed).
        send_outbound_ack(*c);
        c->state = call_state::ending;
        c->end_reason = "no ACK from the caller";
        send_bye(*c, leg_side::outbound);
        if (why == sip::transaction_failure::no_ack) {
            send_bye(*c, leg_side::inbound);
        } else {
            c->in.session.on(session_event::given_up);
        }
        return maybe_end(*c);
    }
    if (c->state == call_state::ending && c->in.session.state() == session_state::accepted) {
        // The far end hung up and the caller never ACKed: nothing left to tell it.
        c->in.session.on(session_event::given_up);
        return maybe_end(*c);
    }
    if (c->state == call_state::calling) {
        c->in.session.on(session_event::given_up);  // the caller cannot be reached any more
        cancel_outbound(*c, 0, {}, call_result::error);
    }
}

// ---------------------------------------------------------------- the outbound INVITE's outcome

void core::on_outbound_invite_event(call& c, dialog::request_event& ev) {
    outbound_attempt& a = c.out();
    stop_invite_timer(a);  // any response, even 100, shows the trunk is there
    if (ev.failure) {
        a.session.on(session_event::failure_received);
        release_trunk(a);
        log_->info("call {}: trunk {} did not answer the INVITE ({})", c.id.value, a.trunk->name,
                   sip::to_string(*ev.failure));
        if (c.state == call_state::calling) {
            const bool timeout = *ev.failure == sip::transaction_failure::timeout;
            if (!c.committed && fail_over(c, timeout ? "timeout" : "transport")) return;
            if (*ev.failure == sip::transaction_failure::timeout) {
                answer_inbound(c, 408, "Request Timeout", call_result::timeout);
            } else {
                answer_inbound(c, 503, "Service Unavailable", call_result::error);
            }
            c.end_reason = std::string("trunk ") + std::string(sip::to_string(*ev.failure));
        }
        return maybe_end(c);
    }
    const sip::message& rsp = *ev.response;
    const int status = rsp.status();
    if (status == 100) return;  // hop by hop
    if (!a.dialogs) return;
    switch (a.dialogs->on_response(rsp)) {
        case dialog::dialog_set::verdict::confirmed:
            return on_outbound_answer(c, rsp);
        case dialog::dialog_set::verdict::retransmission:
            // Once we have ACKed a 2xx the sender re-sends that ACK on its retransmissions
            // itself (§13.2.2.4); one that comes before is answered by the ACK to come.
            return;
        case dialog::dialog_set::verdict::other_fork:
            return end_other_fork(c, rsp);
        case dialog::dialog_set::verdict::early:
        case dialog::dialog_set::verdict::no_dialog:
            break;
    }
    if (status < 200) {
        a.session.on(session_event::provisional_received);
        // Early media may be playing to the caller from here on: this trunk keeps the call.
        if (c.state == call_state::calling && !rsp.body().empty()) c.committed = true;
        return on_outbound_provisional(c, rsp);
    }

    // A final non-2xx: the INVITE client transaction has ACKed it already (§17.1.1.3).
    a.session.on(session_event::failure_received);
    release_trunk(a);
    note_retry_after(a, rsp);
    if (c.state == call_state::calling && !c.committed) {
        // A refusal of our credentials is this trunk's account problem; another trunk has
        // its own account and may take the call (403 is relayed: it is often policy).
        const bool auth_failed = ev.auth_failure && *ev.auth_failure != auth::failure::forbidden;
        if ((auth_failed || routing::fails_over(status)) &&
            fail_over(c, auth_failed ? std::string("auth") : std::to_string(status))) {
            return;
        }
    }
    if (c.state == call_state::calling) {
        if (ev.auth_failure && *ev.auth_failure != auth::failure::forbidden) {
            // The caller is told the route is unavailable, not that its own credentials
            // failed: a 503 lets it fail over to another trunk if it has one.
            answer_inbound(c, 503, "Service Unavailable", call_result::upstream_auth_failed);
            c.end_reason = std::string("trunk authentication failed: ") + std::string(auth::to_string(*ev.auth_failure));
        } else if (status >= 300 && status < 400) {
            if (follow_redirect(c, rsp)) return;
            // A redirect's Contacts are the far end's topology: the caller learns only that
            // the callee is not reachable this way.
            answer_inbound(c, 480, "Temporarily Unavailable", call_result::rejected);
            c.end_reason = "trunk answered " + std::to_string(status);
        } else {
            // A 403 after our credentials is relayed as it is: providers use it for policy
            // (caller ID, destination, balance) as well as for bad credentials.
            answer_inbound(c, status, rsp.reason(), call_result::rejected, &rsp);
            c.end_reason = "trunk answered " + std::to_string(status);
        }
    }
    maybe_end(c);
}

void core::on_outbound_answer(call& c, const sip::message& rsp) {
    outbound_attempt& a = c.out();
    a.session.on(session_event::success_received, !rsp.body().empty());
    a.invite_cseq = rsp.cseq().seq;
    dialog::dialog_state& d = a.dialog();
    // Requests we send later in this dialog take CSeq numbers above the INVITE's.
    d.local_cseq = std::max(d.local_cseq, a.invite_cseq);
    for (const auto& early : a.reliability.early) {
        // Our PRACKs in the early dialog used numbers above the INVITE's (RFC 3262 §7.1).
        if (early->remote_tag() == d.remote_tag()) d.local_cseq = std::max(d.local_cseq, early->local_cseq);
    }
    aim(a, d);
    // RFC 6026 §7.2: other forks' 2xx may come until Timer M (64*T1) ends the INVITE's
    // transaction; the tags they are told apart by are kept until then.
    timers_.schedule(64 * cfg_.sip.t1, [this, h = c.id, id = a.id] { settle_invite(h, id); });
    session_timer_answered(c, leg_side::outbound, rsp, a.refresh.offer ? a.refresh.offer->interval : 0);

    if (c.state != call_state::calling) {
        // The caller cancelled (or we gave up ringing) while the far end answered: the CANCEL
        // lost the race (§9.1), so the answered leg is confirmed and hung up.
        send_outbound_ack(c);
        c.state = call_state::ending;
        send_bye(c, leg_side::outbound);
        return maybe_end(c);
    }
    if (hold_back_2xx(c, rsp)) return;
    answer_caller(c, rsp);
}

void core::answer_caller(call& c, const sip::message& rsp) {
    c.final_status = rsp.status();
    sip::message_writer w = sip::response_writer(*c.in.invite, rsp.status(), rsp.reason(), c.in.tag);
    const auto seen = c.in.dialog.remote_cseq;  // requests in the early dialog count too
    c.in.dialog = dialog::uas_dialog(*c.in.invite, c.in.tag, c.in.flow, dialog::make_identity(c.in.flow, cfg_.sip.advertised_host, c.in.invite->request_uri().is_sips()));
    if (seen && *seen > c.in.dialog.remote_cseq.value_or(0)) c.in.dialog.remote_cseq = seen;
    copy_record_route(w, *c.in.invite);
    w.header(sip::header_id::contact, c.in.dialog.self.contact());
    w.header("Allow", allow_value);
    note_peer_allow(c, leg_side::inbound, *c.in.invite);
    answer_session_timer(c, leg_side::inbound, *c.in.invite, w);
    note_sent_sdp(c, leg_side::inbound, rsp.body(), header_value(rsp, sip::header_id::content_type));
    auto bytes = std::move(w).finish(rsp.body(), header_value(rsp, sip::header_id::content_type));
    timers_.cancel(c.timer);
    c.timer = 0;
    c.state = call_state::answered;
    c.answered_at = timers_.now();
    c.in.session.on(session_event::success_sent, !rsp.body().empty());
    count_setup(c, call_result::answered);
    if (auto ec = txm_->respond(c.in.txn, rsp.status(), std::move(bytes))) {
        log_->warn("call {}: 2xx to the caller not sent: {}", c.id.value, ec.message());
    }
    log_->info("call {} answered after {} ms", c.id.value,
               std::chrono::duration_cast<std::chrono::milliseconds>(c.answered_at - c.started).count());
}

namespace {

// The host of "host[:port]" ("[v6]" keeps its brackets).
std::string_view host_of(std::string_view host_port) {
    if (!host_port.empty() && host_port.front() == '[') return host_port.substr(0, host_port.find(']') + 1);
    return host_port.substr(0, host_port.find(':'));
}

}  // namespace

bool core::follow_redirect(call& c, const sip::message& rsp) {
    // Loops and chains end here (RFC 3261 §8.1.3.4 leaves the limit to the UAC).
    constexpr unsigned max_redirects = 3;
    if (c.direction != call_direction::outbound || !c.plan || c.redirects >= max_redirects) return false;
    const auto contacts = rsp.contacts();
    // §8.1.3.4: the Contacts are tried in q order; we try the most preferred one only.
    const sip::name_addr* best = nullptr;
    double best_q = -1;
    for (const auto& contact : contacts) {
        // §20.10: q is 0..1, 1 when absent; an unreadable one ranks last.
        double q = 1.0;
        if (auto v = contact.param("q")) {
            if (std::from_chars(v->data(), v->data() + v->size(), q).ec != std::errc{}) q = 0;
        }
        if (q > best_q) {
            best = &contact;
            best_q = q;
        }
    }
    if (best == nullptr || !best->uri.is_sip() || best->uri.user.empty()) return false;
    // Only to a host of a configured trunk: a Contact elsewhere could send the call (and our
    // credentials) to any address the far end names.
    const auto& u = best->uri;
    const std::uint16_t port = u.port ? u.port : 5060;
    std::optional<std::size_t> target;
    for (std::size_t i = 0; i < trunks_.size() && !target; ++i) {
        const auto& t = *trunks_[i];
        if (!t.dns_host.empty()) {
            // Named by host: the Contact must name that host (and the uri's port, if any).
            if (sip::iequals(u.host, t.dns_host) && u.port == t.uri_port) target = i;
            continue;
        }
        // Addresses compare as addresses: "[::1]" and "[0:0::1]" are one host (RFC 5954 §4).
        const bool same_host = sip::iequals(u.host, host_of(t.domain)) ||
                               sip::same_ip_address(u.host, t.address.address.to_string());
        if (same_host && port == t.address.port) target = i;
    }
    if (!target) {
        log_->info("call {}: {} from trunk {} to {:?}: not a configured trunk, not followed", c.id.value, rsp.status(),
                   c.out().trunk->name, u.text);
        return false;
    }
    // The trunk it names is held to its limits and health like any other.
    if (selection_.take(*target, timers_.now(), c.emergency) != routing::skip_reason::none) {
        log_->info("call {}: {} from trunk {} to trunk {}, which cannot take calls now: not followed", c.id.value,
                   rsp.status(), c.out().trunk->name, trunks_[*target]->name);
        return false;
    }
    ++c.redirects;
    log_->info("call {}: {} from trunk {}: following to trunk {} (redirect {} of {})", c.id.value, rsp.status(),
               c.out().trunk->name, trunks_[*target]->name, c.redirects, max_redirects);
    if (!start_attempt(c, *target, u.user, c.plan->caller, c.plan->display)) {
        selection_.on_attempt_end(*target);
        return false;
    }
    hold_trunk(c);
    return true;
}

void core::settle_invite(call_handle h, std::uint64_t attempt) {
    call* c = find(h);
    if (c == nullptr) return;
    for (auto& a : c->attempts) {
        if (a.id != attempt || !a.dialogs || !a.dialogs->is_confirmed()) continue;
        a.dialogs->settle();
        // The INVITE's own state (the credentials it carried, which an ACK repeats) goes too,
        // once its 2xx has the ACK: until then the ACK still has to be built from it.
        if (a.session.state() != dialog::session_state::accepted) a.invite.reset();
    }
}

void core::end_other_fork(call& c, const sip::message& rsp) {
    // §13.2.2.4: a 2xx from another fork makes a dialog of its own; we keep one call per
    // INVITE, so that dialog is confirmed with an ACK and ended with a BYE at once.
    outbound_attempt& a = c.out();
    auto d = std::make_shared<dialog::dialog_state>(a.dialogs->fork_dialog(rsp));
    aim(a, *d);
    log_->info("call {}: 2xx from a second fork (tag {:?}): ACK and BYE", c.id.value, rsp.to().tag);
    if (auto bye = ack_and_bye(a, d, rsp.cseq().seq, "SIP;cause=200;text=\"Call completed elsewhere\"")) {
        c.requests.push_back(std::move(bye));
    }
}

dialog::request_handle core::ack_and_bye(const outbound_attempt& a, std::shared_ptr<dialog::dialog_state> d,
                                         std::uint32_t cseq, std::string_view reason) {
    if (auto ec = sender_->acknowledge(a.invite, *d, cseq)) {
        log_->warn("ACK to trunk {} not sent: {}", a.trunk->name, ec.message());
    }
    dialog::request_plan plan = plan_to_trunk(a, *d, "BYE");
    plan.build = [d, reason = std::string(reason)](std::string_view branch, std::string_view auth_name,
                                                    std::string_view auth_value) {
        std::vector<std::pair<std::string_view, std::string_view>> headers;
        if (!auth_name.empty()) headers.emplace_back(auth_name, auth_value);
        headers.emplace_back("Reason", reason);
        return dialog::make_in_dialog(*d, "BYE", branch, 0, {}, {}, std::move(headers));
    };
    auto sent = sender_->send(std::move(plan), {});
    return sent ? std::move(*sent) : dialog::request_handle{};
}

// ------------------------------------------------------------------------------------- actions

dialog::request_plan core::plan_on(const call& c, leg_side to, const dialog::dialog_state& d,
                                   std::string_view method) const {
    if (to == leg_side::outbound) return plan_to_trunk(c.attempts.back(), d, method);
    dialog::request_plan plan;
    plan.flow = d.flow;
    plan.reconnect = d.reconnect;
    plan.method = std::string(method);
    plan.request_uri = d.remote_target;
    return plan;
}

dialog::request_plan core::plan_to_trunk(const outbound_attempt& a, const dialog::dialog_state& d,
                                         std::string_view method) const {
    dialog::request_plan plan;
    plan.flow = d.flow;
    plan.reconnect = d.reconnect;
    plan.method = std::string(method);
    plan.request_uri = d.remote_target;
    // The trunk's challenges are answered with its credentials, on any request: as they are
    // now, so that a password rotated during the call serves its BYE too.
    const auto& now = is_trunk(a.trunk_index) && !trunks_[a.trunk_index]->removed ? *trunks_[a.trunk_index] : *a.trunk;
    plan.credentials = {now.username, now.password};
    plan.peer = static_cast<std::uint32_t>(a.trunk_index);
    plan.reuse_nonce = a.trunk->reuse_nonce;
    return plan;
}

void core::send_outbound_ack(call& c, std::string_view body, std::string_view content_type) {
    outbound_attempt& a = c.out();
    if (!a.session.on(session_event::ack_sent, !body.empty())) return;  // ACKed already
    if (auto ec = sender_->acknowledge(a.invite, a.dialog(), a.invite_cseq, body, content_type)) {
        log_->warn("call {}: ACK to the trunk not sent: {}", c.id.value, ec.message());
    }
}

void core::send_bye(call& c, leg_side side) {
    dialog::invite_session& session = side == leg_side::outbound ? c.out().session : c.in.session;
    if (!session.on(session_event::bye_sent)) return;  // nothing up on that leg to end
    dialog::dialog_state& live = side == leg_side::outbound ? c.out().dialog() : c.in.dialog;
    // The builder owns a copy of the dialog: a re-send with credentials takes the next CSeq.
    auto d = std::make_shared<dialog::dialog_state>(live);
    dialog::request_plan plan = plan_on(c, side, *d, "BYE");  // providers challenge BYE too
    plan.build = [d](std::string_view branch, std::string_view auth_name, std::string_view auth_value) {
        std::vector<std::pair<std::string_view, std::string_view>> extra;
        if (!auth_name.empty()) extra.emplace_back(auth_name, auth_value);
        return dialog::make_in_dialog(*d, "BYE", branch, 0, {}, {}, std::move(extra));
    };
    auto sent = sender_->send(std::move(plan), [this, h = c.id, side](dialog::request_event& ev) {
        if (ev.response && ev.response->status() < 200) return;
        call* p = find(h);
        if (p == nullptr) return;
        if (ev.failure) {
            // The far end never hears it (its connection is gone and none may be opened, or it
            // does not answer): the call ends on our side all the same, and says so.
            log_->warn("call {}: BYE to the {} side not delivered ({}); ending the call on our side", h.value,
                       side == leg_side::outbound ? "outbound" : "inbound", sip::to_string(*ev.failure));
        }
        (side == leg_side::outbound ? p->out().session : p->in.session).on(session_event::bye_done);
        maybe_end(*p);
    });
    if (!sent) {
        log_->warn("call {}: BYE not sent: {}", c.id.value, sent.error().message());
        session.on(session_event::bye_done);
        return;
    }
    live.local_cseq = d->local_cseq;
    c.requests.push_back(std::move(*sent));
}

void core::relay_provisional(call& c, const sip::message& rsp) {
    // A provisional with a body (183 with early media SDP) relays the body; its Contact is
    // ours, and a To tag makes the early dialog on the inbound leg (§13.3.1.1).
    c.in.session.on(session_event::provisional_sent);
    sip::message_writer w = sip::response_writer(*c.in.invite, rsp.status(), rsp.reason(), c.in.tag);
    copy_record_route(w, *c.in.invite);
    w.header(sip::header_id::contact, dialog::make_identity(c.in.flow, cfg_.sip.advertised_host, c.in.invite->request_uri().is_sips()).contact());
    auto bytes = std::move(w).finish(rsp.body(), header_value(rsp, sip::header_id::content_type));
    if (auto ec = txm_->respond(c.in.txn, rsp.status(), std::move(bytes))) {
        log_->debug("call {}: provisional to the caller not sent: {}", c.id.value, ec.message());
    }
}

void core::answer_inbound(call& c, int status, std::string_view reason, call_result result,
                          const sip::message* relayed) {
    if (!c.in.session.on(session_event::failure_sent)) return;  // it has its final answer
    c.final_status = status;
    count_setup(c, result);
    sip::message_writer w = sip::response_writer(*c.in.invite, status, reason, c.in.tag);
    // Behind a balancer that fails over on 408 and 5xx: a refusal, a silence or a credentials
    // failure of the far end would be the same on every node, so it is final. A failure of this
    // node's own (shutting down, nothing to send with) is not marked: another node may do better.
    const bool far_end = result == call_result::rejected || result == call_result::timeout ||
                         result == call_result::upstream_auth_failed;
    if (c.forwarded && far_end && (status == 408 || status >= 500)) {
        w.header(cfg_.cluster.final_header, "far-end");
    }
    if (relayed != nullptr) {
        // What lets the caller recover from the far end's refusal crosses over; nothing that
        // names the far end's topology does (Contact, Via, Record-Route stay on its leg).
        for (const auto& h : relayed->headers()) {
            if (detail::recovery_header(h)) w.raw_line(h.raw);
        }
    }
    if (auto ec = txm_->respond(c.in.txn, status, std::move(w).finish())) {
        log_->debug("call {}: final response to the caller not sent: {}", c.id.value, ec.message());
    }
}

void core::cancel_outbound(call& c, int status, std::string_view reason, call_result result) {
    if (status != 0) {
        answer_inbound(c, status, reason, result);
    } else if (!c.result) {
        count_setup(c, result);
    }
    c.state = call_state::cancelling;
    c.end_reason = status == 487   ? "cancelled"
                   : status == 408 ? "not answered in time"
                   : status == 503 ? "shutting down"
                                   : "caller unreachable";
    timers_.cancel(c.timer);
    c.timer = 0;
    outbound_attempt& a = c.out();
    if (a.session.state() == session_state::accepted || a.session.state() == session_state::confirmed) {
        // Its 2xx was held back for a PRACK from the caller (RFC 3262 §3) that did not come
        // in time, or a CANCEL came first: that leg is confirmed, then ended.
        send_outbound_ack(c);
        c.state = call_state::ending;
        send_bye(c, leg_side::outbound);
        return maybe_end(c);
    }
    if (!a.session.pending()) return maybe_end(c);
    // §9.1: the CANCEL goes out once a provisional has arrived (the manager waits for one).
    if (const auto txn = dialog::request_sender::current_transaction(a.invite); txn != 0) txm_->cancel(txn);
    // §9.1: with no final response 64*T1 after the CANCEL, the INVITE is given up.
    c.timer = timers_.schedule(64 * cfg_.sip.t1, [this, h = c.id] {
        call* p = find(h);
        if (p == nullptr) return;
        p->timer = 0;
        dialog::request_sender::abandon(p->out().invite);
        p->out().session.on(session_event::given_up);
        maybe_end(*p);
    });
}

void core::start_max_duration(call& c) {
    // A confirmed call whose BYE never arrives (a PBX rebooted, a BYE lost for good) would
    // hold its place in max_calls for ever: after calls.max_duration it ends on both legs.
    if (cfg_.calls.max_duration.count() <= 0) return;
    timers_.cancel(c.timer);
    c.timer = timers_.schedule(std::chrono::duration_cast<sip::timer_service::duration>(cfg_.calls.max_duration),
                               [this, h = c.id] {
                                   call* p = find(h);
                                   if (p == nullptr) return;
                                   p->timer = 0;
                                   if (p->state != call_state::confirmed) return;
                                   log_->info("call {}: maximum duration of {} s reached", h.value,
                                              cfg_.calls.max_duration.count());
                                   hang_up(*p, "maximum duration reached");
                               });
}

void core::hang_up(call& c, std::string reason) {
    if (c.hangup_by == hangup_party::none) c.hangup_by = hangup_party::b2bua;
    c.end_reason = std::move(reason);
    c.state = call_state::ending;
    send_bye(c, leg_side::inbound);
    send_bye(c, leg_side::outbound);
    maybe_end(c);
}

void core::maybe_end(call& c) {
    const auto& in = c.in.session;
    const auto& out = c.out().session;
    switch (c.state) {
        case call_state::calling:
            // Only a final answer to the caller ends a call that is still being set up.
            if (in.has_final() && !out.pending()) end(c, c.end_reason);
            return;
        case call_state::cancelling:
            if (!out.pending() && out.state() != session_state::terminating) end(c, c.end_reason);
            return;
        case call_state::ending:
            // Done when no BYE is outstanding and the caller is not still owed our BYE after
            // its ACK (the far end hung up first).
            if (in.state() != session_state::terminating && in.state() != session_state::accepted &&
                out.state() != session_state::terminating) {
                end(c, c.end_reason);
            }
            return;
        case call_state::answered:
        case call_state::confirmed:
            return;
    }
}

}  // namespace b2b::b2bua
