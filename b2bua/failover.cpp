// Trunk selection for a call: attempts on the route's trunks in order, failover, and what an
// INVITE given up for its silence may still bring.
#include "b2bua/core.hpp"

#include "b2bua/detail/sip_helpers.hpp"
#include "dialog/dialog.hpp"
#include "routing/failover.hpp"

#include <spdlog/spdlog.h>

namespace b2b::b2bua {

using detail::header_value;
using detail::key_of;
using dialog::session_event;

void core::hold_trunk(call& c) {
    // The slot was taken (selection_.take) before the request went out.
    c.out().holds_slot = true;
    arm_invite_timer(c);
}

void core::arm_invite_timer(call& c) {
    outbound_attempt& a = c.out();
    stop_invite_timer(a);
    const auto timeout = std::chrono::duration_cast<sip::timer_service::duration>(a.trunk->selection.invite_timeout);
    a.invite_timer = timers_.schedule(timeout, [this, h = c.id, id = a.id] {
        call* p = find(h);
        if (p == nullptr || p->out().id != id) return;
        p->out().invite_timer = 0;
        on_invite_timeout(*p);
    });
}

bool core::begin_attempt(call& c) {
    bool taken = false;  // the trunk at c.plan->position holds a slot for this call
    for (;;) {
        const std::size_t trunk = c.plan->trunks[c.plan->position];
        if (!taken) {
            // The route's trunk was chosen by a look that another event loop may have overtaken
            // since: the slot is taken in one step with them, or the next trunk is tried.
            const auto why = selection_.take(trunk, timers_.now(), c.emergency);
            if (why != routing::skip_reason::none) {
                if (!next_trunk(c, trunk, routing::to_string(why))) return false;
                continue;
            }
            taken = true;
        }
        if (c.plan->targets_of != c.plan->position) {
            // A trunk's targets are taken once per call, as they are now (RFC 3263 §4.3: the
            // call walks them in order when one fails).
            c.plan->targets = targets_->ordered(trunk);
            c.plan->target = 0;
            c.plan->targets_of = c.plan->position;
        }
        const sip::resolver::target* where =
            c.plan->target < c.plan->targets.size() ? &c.plan->targets[c.plan->target] : nullptr;
        // No target at all (DNS has not answered yet): start_attempt records the failed attempt
        // and says so.
        if (start_attempt(c, trunk, c.plan->number, c.plan->caller, c.plan->display, nullptr, where)) {
            hold_trunk(c);
            return true;
        }
        if (where != nullptr && next_target(c, "transport")) continue;  // the same trunk's next target
        // Not even sent (no target, or no transport towards any): the next trunk may do better.
        selection_.on_attempt_end(trunk);
        taken = false;
        if (!next_trunk(c, trunk, "transport")) return false;
    }
}

bool core::next_trunk(call& c, std::size_t from, std::string_view status) {
    const auto choice = selection_.pick(c.plan->trunks, c.plan->position + 1, timers_.now(), c.emergency);
    if (!choice.position) return false;
    metrics_.trunk_failover(from, c.plan->trunks[*choice.position], status);
    log_->info("call {}: failover from trunk {} ({}) to trunk {}", c.id.value, trunks_[from]->name, status,
               trunks_[c.plan->trunks[*choice.position]]->name);
    c.plan->position = *choice.position;
    return true;
}

bool core::next_target(call& c, std::string_view status) {
    if (c.plan->targets_of != c.plan->position || c.plan->target >= c.plan->targets.size()) return false;
    const std::size_t trunk = c.plan->trunks[c.plan->position];
    const auto failed = c.plan->targets[c.plan->target];
    targets_->mark_failed(trunk, failed);
    if (c.plan->target + 1 >= c.plan->targets.size()) return false;
    ++c.plan->target;
    log_->info("call {}: trunk {} target {} failed ({}); trying its next target {}", c.id.value, trunks_[trunk]->name,
               failed.to_string(), status, c.plan->targets[c.plan->target].to_string());
    return true;
}

bool core::fail_over(call& c, std::string_view status) {
    // A call from a trunk goes to its inbound route's one PBX: nothing to fail over to; an
    // answered call has let go of its plan.
    if (c.direction == call_direction::inbound || !c.plan) return false;
    // RFC 3263 §4.3: a transport error, a timeout or a 503 moves the request to the trunk's
    // next target first; other failures are the trunk's answer, whichever target gave it.
    if ((status == "transport" || status == "timeout" || status == "503") && c.out().trunk_index == c.plan->trunks[c.plan->position] &&
        next_target(c, status)) {
        return begin_attempt(c);
    }
    const std::size_t from = c.out().trunk_index;
    const auto choice = selection_.pick(c.plan->trunks, c.plan->position + 1, timers_.now(), c.emergency);
    if (!choice.position) {
        if (c.plan->position + 1 < c.plan->trunks.size()) {
            log_->info("call {}: trunk {} failed ({}); no other trunk of the route can take the call", c.id.value,
                       trunks_[from]->name, status);
        }
        return false;
    }
    const std::size_t to = c.plan->trunks[*choice.position];
    metrics_.trunk_failover(from, to, status);
    std::string skipped;
    for (const auto& [trunk, reason] : choice.skipped) {
        metrics_.trunk_failover(trunk, to, routing::to_string(reason));
        skipped += ", skipping " + trunks_[trunk]->name + " (" + std::string(routing::to_string(reason)) + ")";
    }
    log_->info("call {}: failover from trunk {} ({}) to trunk {}{}", c.id.value, trunks_[from]->name, status,
               trunks_[to]->name, skipped);
    c.plan->position = *choice.position;
    // The caller keeps its dialog (our To tag); the new attempt is a new dialog of its own
    // (Call-ID, tags, CSeq): nothing of the failed attempt goes on.
    return begin_attempt(c);
}

void core::release_trunk(outbound_attempt& a) {
    if (!a.holds_slot) return;
    a.holds_slot = false;
    selection_.on_attempt_end(a.trunk_index);
}

void core::stop_invite_timer(outbound_attempt& a) {
    timers_.cancel(a.invite_timer);
    a.invite_timer = 0;
}

void core::note_retry_after(const outbound_attempt& a, const sip::message& rsp) {
    // A PBX's 503 concerns that call only: trunk selection knows trunks alone.
    if (rsp.status() != 503 || !is_trunk(a.trunk_index)) return;
    const auto value = header_value(rsp, sip::header_id::retry_after);
    if (value.empty()) return;
    const auto seconds = routing::retry_after_seconds(value);
    if (!seconds || seconds->count() == 0) return;
    selection_.take_out_of_service(a.trunk_index, timers_.now() + *seconds);
    log_->info("trunk {} out of service for {} s (503 with Retry-After)", a.trunk->name, seconds->count());
}

void core::on_invite_timeout(call& c) {
    if (c.state != call_state::calling) return;  // cancelling: the CANCEL guard has it
    outbound_attempt& a = c.out();
    log_->info("call {}: trunk {} sent no provisional response within {} ms; INVITE given up", c.id.value,
               a.trunk->name, a.trunk->selection.invite_timeout.count());
    if (const auto txn = dialog::request_sender::current_transaction(a.invite); txn != 0) {
        // §9.1: no CANCEL before a provisional. The retransmissions stop; the CANCEL is
        // asked for now and goes out only if a provisional ever comes (the manager holds it).
        txm_->stop_retransmitting(txn);
        txm_->cancel(txn);
    }
    release_trunk(a);
    a.session.on(session_event::given_up);
    // The abandoned INVITE keeps its own record until its transaction ends: a late 2xx is
    // ACKed and ended with BYE there, never relayed.
    if (a.dialogs) dialogs_.remove(key_of(a.own_side()));
    abandoned_invite parked;
    parked.attempt.id = a.id;
    parked.attempt.trunk = a.trunk;
    parked.attempt.trunk_index = a.trunk_index;
    parked.attempt.destination = a.destination;
    parked.attempt.dialogs = std::move(a.dialogs);
    parked.attempt.invite = std::move(a.invite);
    a.dialogs.reset();
    a.invite.reset();
    abandoned_.emplace(a.id, std::move(parked));

    if (fail_over(c, "timeout")) return;
    answer_inbound(c, 408, "Request Timeout", call_result::timeout);
    c.end_reason = "trunk sent no provisional response in time";
    maybe_end(c);
}

void core::on_abandoned_invite_event(std::uint64_t attempt, dialog::request_event& ev) {
    auto it = abandoned_.find(attempt);
    if (it == abandoned_.end()) return;
    abandoned_invite& parked = it->second;
    const auto drop = [&] {
        timers_.cancel(parked.timer);
        abandoned_.erase(it);
    };
    if (ev.failure) return drop();  // Timer B: it never answered at all
    const sip::message& rsp = *ev.response;
    const int status = rsp.status();
    // A late provisional releases the CANCEL asked for at give-up (the manager sends it).
    if (status < 200) return;
    if (status >= 300) return drop();  // the transaction ACKed it (§17.1.1.3): nothing left
    outbound_attempt& a = parked.attempt;
    if (!a.dialogs) return drop();
    const auto verdict = a.dialogs->on_response(rsp);
    if (verdict == dialog::dialog_set::verdict::retransmission) return;  // the sender re-ACKs it
    auto d = std::make_shared<dialog::dialog_state>(verdict == dialog::dialog_set::verdict::confirmed
                                                        ? a.dialogs->confirmed()
                                                        : a.dialogs->fork_dialog(rsp));
    aim(a, *d);
    log_->info("trunk {} answered {} an INVITE given up for its silence: ACK and BYE", a.trunk->name, status);
    // §13.2.2.4: every 2xx is ACKed, even one we do not want; then the dialog ends.
    ack_and_bye(a, d, rsp.cseq().seq, "SIP;cause=408;text=\"No provisional response in time\"");
    if (parked.timer == 0) {
        // RFC 6026 §7.2: 2xx retransmissions and other forks may come for 64*T1 (Timer M);
        // the sender re-ACKs retransmissions itself, and this record serves the forks.
        parked.timer = timers_.schedule(64 * cfg_.sip.t1, [this, attempt] { abandoned_.erase(attempt); });
    }
}

void core::on_trunk_health(std::size_t trunk, bool up) {
    selection_.set_up(trunk, up);
    metrics_.set_trunk_up(trunk, up);
}

}  // namespace b2b::b2bua
