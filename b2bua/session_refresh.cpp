// Session timers (RFC 4028) per leg: negotiation on each leg, our refreshes, expiry with BYE on both legs.
#include "b2bua/core.hpp"

#include "b2bua/detail/sip_helpers.hpp"
#include "dialog/dialog.hpp"
#include "sip/message/text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace b2b::b2bua {

using detail::allow_value;
using detail::header_value;

namespace {

constexpr std::string_view side_name(leg_side s) noexcept { return s == leg_side::inbound ? "inbound" : "outbound"; }

bool is_sdp(std::string_view type) {
    return sip::iequals(sip::trim_lws(type.substr(0, type.find(';'))), "application/sdp");
}

}  // namespace

stage_result session_interval_stage::run(ingress_request& r, ingress_responder& responder) {
    const std::uint32_t min = dialog::session_timer(static_cast<std::uint32_t>(min_se_.count())).too_small(r.invite);
    if (min == 0) return stage_result::proceed;
    const std::string value = std::to_string(min);
    responder.refuse(r, 422, "Session Interval Too Small", {{"Min-SE", value}});
    return stage_result::stop;
}

// ------------------------------------------------------------------------------ negotiation

std::shared_ptr<dialog::session_timer_offer> core::outbound_session_offer(const call& c) const {
    // §7.1: the caller's interval goes on, so the far end refreshes at least as often as the
    // caller wants (raised to our Min-SE when the caller could not read a 422); with none, ours.
    auto offer = std::make_shared<dialog::session_timer_offer>();
    const auto min_se = static_cast<std::uint32_t>(cfg_.calls.min_se.count());
    offer->min_se = min_se;
    if (const auto se = dialog::parse_session_expires(*c.in.invite)) {
        offer->interval = std::max(se->interval, min_se);
    } else {
        offer->interval = static_cast<std::uint32_t>(cfg_.calls.session_expires.count());
    }
    return offer;
}

std::shared_ptr<dialog::session_timer_offer> core::leg_session_offer(const call& c, leg_side side) const {
    const session_refresh& r = side == leg_side::inbound ? c.in.refresh : c.attempts.back().refresh;
    auto offer = std::make_shared<dialog::session_timer_offer>();
    offer->min_se = static_cast<std::uint32_t>(cfg_.calls.min_se.count());
    if (!r.timer.active()) return offer;  // Supported: timer only
    // §7.4: the refresher stays who it was; we are the UAC of this request.
    offer->interval = r.timer.interval();
    offer->refresher = r.timer.who() == dialog::refresher::local ? dialog::refresher_param::uac
                                                                  : dialog::refresher_param::uas;
    return offer;
}

void core::answer_session_timer(call& c, leg_side side, const sip::message& request, sip::message_writer& w) {
    session_refresh& r = c.refresh(side);
    if (!r.timer.active()) r.timer = dialog::session_timer(static_cast<std::uint32_t>(cfg_.calls.min_se.count()));
    r.timer.on_request_answered(request, static_cast<std::uint32_t>(cfg_.calls.session_expires.count()), timers_.now());
    w.header(sip::header_id::supported, "timer");
    bool require = false;
    if (const std::string se = r.timer.response_session_expires(&require); !se.empty()) {
        w.header("Session-Expires", se);
        if (require) w.header(sip::header_id::require, "timer");
    }
    arm_session_timer(c, side);
}

bool core::refuse_short_session(call& c, leg_side side, sip::transaction_id txn, const sip::message& request) {
    session_refresh& r = c.refresh(side);
    dialog::session_timer probe(static_cast<std::uint32_t>(cfg_.calls.min_se.count()));
    const std::uint32_t min = (r.timer.active() ? r.timer : probe).too_small(request);
    if (min == 0) return false;
    respond(txn, request, 422, "Session Interval Too Small", {}, {{"Min-SE", std::to_string(min)}});
    return true;
}

void core::session_timer_answered(call& c, leg_side side, const sip::message& response, std::uint32_t asked) {
    session_refresh& r = c.refresh(side);
    if (!r.timer.active()) r.timer = dialog::session_timer(static_cast<std::uint32_t>(cfg_.calls.min_se.count()));
    r.timer.on_success_received(response, asked, timers_.now());
    note_peer_allow(c, side, response);
    arm_session_timer(c, side);
}

void core::note_sent_sdp(call& c, leg_side side, std::string_view body, std::string_view type) {
    if (body.empty() || !is_sdp(type)) return;
    session_refresh& r = c.refresh(side);
    r.sdp = std::string(body);
    r.sdp_type = std::string(type);
}

void core::note_peer_allow(call& c, leg_side side, const sip::message& m) {
    if (m.find(sip::header_id::allow) == nullptr) return;  // no news: keep what we knew
    c.refresh(side).peer_allows_update = dialog::allows(m, "UPDATE");
}

bool core::session_refresh_invite_pending(const call& c) const {
    return (c.in.refresh.pending && c.in.refresh.pending_invite) ||
           (c.attempts.back().refresh.pending && c.attempts.back().refresh.pending_invite);
}

// ------------------------------------------------------------------------------------ timing

void core::arm_session_timer(call& c, leg_side side) {
    session_refresh& r = c.refresh(side);
    timers_.cancel(r.timer_id);
    r.timer_id = 0;
    const auto due = r.timer.deadline();
    if (!due) return;
    const auto after = std::chrono::duration_cast<sip::timer_service::duration>(*due - timers_.now());
    r.timer_id = timers_.schedule(after, [this, h = c.id, side] {
        call* p = find(h);
        if (p == nullptr) return;
        p->refresh(side).timer_id = 0;
        on_session_deadline(*p, side);
    });
}

void core::on_session_deadline(call& c, leg_side side) {
    if (c.state != call_state::confirmed && c.state != call_state::answered) return;  // ending anyway
    session_refresh& r = c.refresh(side);
    switch (r.timer.on_deadline(timers_.now())) {
        case dialog::session_timer::action::refresh:
            return send_session_refresh(c, side);
        case dialog::session_timer::action::expire:
            // §10: no refresh came in time: the session is over, on both legs.
            log_->info("call {}: session expired on the {} leg (no refresh within its {} s interval)", c.id.value,
                       side_name(side), r.timer.interval());
            return hang_up(c, std::string("session expired on the ") + std::string(side_name(side)) + " leg");
        case dialog::session_timer::action::none:
            return arm_session_timer(c, side);
    }
}

void core::stop_session_timers(call& c) {
    for (session_refresh* r : {&c.in.refresh, &c.out().refresh}) {
        timers_.cancel(r->timer_id);
        r->timer_id = 0;
        r->timer.stop();
        dialog::request_sender::abandon(r->pending);
        r->pending.reset();
    }
}

// --------------------------------------------------------------------------- our refreshes

void core::send_session_refresh(call& c, leg_side side) {
    session_refresh& r = c.refresh(side);
    // An INVITE or UPDATE already under way through this call refreshes the leg when it
    // succeeds, and a second one now would collide (RFC 3261 §14.1, RFC 3311 §5.2): later.
    const bool busy = c.state != call_state::confirmed ||
                      std::any_of(c.relays.begin(), c.relays.end(), [](const relayed_request& x) {
                          const auto m = x.request.method();
                          return m == sip::method::invite || m == sip::method::update;
                      });
    if (busy) {
        r.timer.refresh_failed(timers_.now());
        return arm_session_timer(c, side);
    }
    dialog::dialog_state& live = side == leg_side::inbound ? c.in.dialog : c.out().dialog();
    // §10: UPDATE where the peer allows it (no offer/answer), else a re-INVITE offering the
    // session description we last sent on this leg again.
    struct refresh_template {
        std::shared_ptr<dialog::dialog_state> d;
        std::shared_ptr<dialog::session_timer_offer> offer;
        std::string method;
        std::string body;
        std::string content_type;
        dialog::session_timer_headers timer_headers;
    };
    auto t = std::make_shared<refresh_template>();
    t->d = std::make_shared<dialog::dialog_state>(live);
    t->offer = std::make_shared<dialog::session_timer_offer>();
    t->offer->interval = r.timer.interval();
    t->offer->min_se = r.timer.min_se();
    t->offer->refresher = dialog::refresher_param::uac;  // §7.4: we stay the refresher
    // With no session description sent on this leg yet, a re-INVITE would have to be offerless
    // and we could not answer the peer's offer: an UPDATE is the one refresh left.
    const bool update = r.peer_allows_update || r.sdp.empty();
    t->method = update ? "UPDATE" : "INVITE";
    if (!update) {
        t->body = r.sdp;
        t->content_type = r.sdp_type;
    }
    dialog::request_plan plan = plan_on(c, side, *t->d, t->method);
    plan.build = [t](std::string_view branch, std::string_view auth_name, std::string_view auth_value) {
        t->timer_headers = t->offer->headers();
        std::vector<std::pair<std::string_view, std::string_view>> extra;
        t->timer_headers.append_to(extra);
        extra.emplace_back("Supported", "timer");
        extra.emplace_back("Allow", allow_value);
        if (!auth_name.empty()) extra.emplace_back(auth_name, auth_value);
        return dialog::make_in_dialog(*t->d, t->method, branch, 0, t->body, t->content_type, std::move(extra));
    };
    // §7.4: a 422 names the peer's Min-SE; the refresh is sent again asking for that.
    plan.retry = [offer = t->offer](const sip::message& rsp) { return offer->on_too_small(rsp); };
    auto sent = sender_->send(std::move(plan), [this, h = c.id, side](dialog::request_event& ev) {
        if (call* p = find(h)) on_session_refresh_event(*p, side, ev);
    });
    if (!sent) {
        log_->warn("call {}: session refresh on the {} leg not sent: {}", c.id.value, side_name(side),
                   sent.error().message());
        r.timer.refresh_failed(timers_.now());
        return arm_session_timer(c, side);
    }
    live.local_cseq = t->d->local_cseq;
    r.pending = std::move(*sent);
    r.pending_invite = !update;
    r.offer = t->offer;
    log_->debug("call {}: session refresh ({}) sent on the {} leg", c.id.value, t->method, side_name(side));
    arm_session_timer(c, side);  // now the expiry, should the refresh not succeed
}

void core::on_session_refresh_event(call& c, leg_side side, dialog::request_event& ev) {
    session_refresh& r = c.refresh(side);
    if (ev.response != nullptr && ev.response->status() < 200) return;
    const bool invite = r.pending_invite;
    auto handle = std::move(r.pending);
    r.pending.reset();
    dialog::dialog_state& d = side == leg_side::inbound ? c.in.dialog : c.out().dialog();
    const int status = ev.response != nullptr ? ev.response->status() : 0;
    if (ev.failure || status == 408 || status == 481) {
        // §10: a refresh that times out, or finds no dialog or no session, ends the session.
        log_->info("call {}: session refresh on the {} leg failed ({}): ending the call", c.id.value, side_name(side),
                   ev.failure ? std::string(sip::to_string(*ev.failure)) : std::to_string(status));
        if (c.state == call_state::confirmed) hang_up(c, "session refresh failed");
        return;
    }
    const sip::message& rsp = *ev.response;
    if (status >= 300) {
        // 491 (glare), 5xx, a refusal: the session stays up; try again before it expires.
        log_->debug("call {}: session refresh on the {} leg answered {}: trying again", c.id.value, side_name(side),
                    status);
        r.timer.refresh_failed(timers_.now());
        return arm_session_timer(c, side);
    }
    if (invite) {
        // §13.2.2.4: the 2xx to our re-INVITE is ACKed by us; the sender repeats the ACK on
        // the 2xx's retransmissions.
        d.local_cseq = std::max(d.local_cseq, rsp.cseq().seq);
        if (auto ec = sender_->acknowledge(handle, d, rsp.cseq().seq)) {
            log_->warn("call {}: ACK of the session refresh not sent: {}", c.id.value, ec.message());
        }
    }
    d.local_cseq = std::max(d.local_cseq, rsp.cseq().seq);
    dialog::refresh_target(d, rsp);  // §12.2: a target refresh like any re-INVITE or UPDATE
    session_timer_answered(c, side, rsp, r.offer ? r.offer->interval : 0);
    log_->debug("call {}: session refreshed on the {} leg ({} s, {} refreshes)", c.id.value, side_name(side),
                r.timer.interval(), r.timer.who() == dialog::refresher::local ? "we" : "the peer");
}

}  // namespace b2b::b2bua
