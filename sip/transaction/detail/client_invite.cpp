// INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §7.2): transitions and timers.
#include "sip/transaction/detail/client_invite.hpp"

namespace b2b::sip::detail {

std::string_view to_string(client_invite::state s) noexcept {
    switch (s) {
        case client_invite::state::calling: return "Calling";
        case client_invite::state::proceeding: return "Proceeding";
        case client_invite::state::completed: return "Completed";
        case client_invite::state::accepted: return "Accepted";
        case client_invite::state::terminated: return "Terminated";
    }
    return "?";
}

action_list client_invite::on_event(const event& ev) noexcept {
    action_list out;
    switch (ev.kind) {
        case event_kind::start:
            if (state_ != state::calling || sent_ != 0) {
                break;
            }
            // §17.1.1.2: send, Timer A = T1 over UDP only, Timer B = 64*T1 always.
            out += send(action_kind::send_request);
            sent_ = 1;
            if (!tv_.reliable) {
                out += start(timer_name::a, timer_a(tv_.t1, 0));
            }
            out += start(timer_name::b, tv_.timeout());
            break;
        case event_kind::response:
            return on_response(ev.status);
        case event_kind::timer:
            return on_timer(ev.timer);
        case event_kind::cancel_sent:
            // §9.1: without a final response 64*T1 after the CANCEL, the UAC gives the INVITE
            // up. Timer B is idle in Proceeding, so it serves for that wait.
            if (state_ == state::proceeding && !cancel_guard_) {
                cancel_guard_ = true;
                out += start(timer_name::b, tv_.timeout());
            }
            break;
        case event_kind::tu_gave_up:
            // §9.1 forbids a CANCEL before a provisional: the TU that stops waiting for a
            // silent peer can only stop retransmitting. Timer B keeps running, so a late
            // answer still reaches the TU (which CANCELs after a 1xx, or ACKs and BYEs a 2xx)
            // and the transaction still ends with a timeout if nothing comes.
            if (state_ == state::calling) {
                out += stop(timer_name::a);
            }
            break;
        case event_kind::transport_error:
            switch (state_) {
                case state::calling:
                case state::proceeding:
                    // §17.1.4: inform the TU and terminate.
                    state_ = state::terminated;
                    out += fail(transaction_failure::transport_error);
                    out += terminate();
                    break;
                case state::completed:
                case state::accepted:
                    // The final response already reached the TU, which must hear of exactly one
                    // outcome; a lost ACK only means the peer retransmits its response.
                    state_ = state::terminated;
                    out += terminate();
                    break;
                case state::terminated: break;
            }
            break;
        case event_kind::request:
        case event_kind::ack:
        case event_kind::tu_response:
        case event_kind::tu_ack:
            break;  // server-side events
    }
    return out;
}

action_list client_invite::on_response(int status) noexcept {
    action_list out;
    const bool provisional = status < 200;
    const bool success = status >= 200 && status < 300;
    switch (state_) {
        case state::calling:
        case state::proceeding:
            if (state_ == state::calling) {
                out += stop(timer_name::a);
            }
            if (provisional) {
                // §17.1.1.2: no more retransmissions; Timer B only guards Calling.
                if (state_ == state::calling) {
                    out += stop(timer_name::b);
                }
                state_ = state::proceeding;
                out += pass_to_tu();
                break;
            }
            out += stop(timer_name::b);
            if (success) {
                // RFC 6026 §7.2: Accepted, so that 2xx retransmissions and forked 2xx still
                // reach the TU, which ACKs each of them, until Timer M.
                state_ = state::accepted;
                out += pass_to_tu();
                out += start(timer_name::m, tv_.timeout());
                break;
            }
            // §17.1.1.3: ACK the non-2xx within the transaction, then wait Timer D for
            // retransmissions of it (zero over a reliable transport: it fires at once).
            state_ = state::completed;
            out += send(action_kind::send_ack);
            out += pass_to_tu();
            out += start(timer_name::d, tv_.timer_d());
            break;
        case state::completed:
            // §17.1.1.2: a retransmitted final response gets the ACK again; not passed up.
            out += absorb();
            if (status >= 300) {
                out += send(action_kind::send_ack, true);
            }
            break;
        case state::accepted:
            // RFC 6026 §7.2: every 2xx goes to the TU; anything else is discarded.
            if (success) {
                out += pass_to_tu();
            } else {
                out += absorb();
            }
            break;
        case state::terminated: break;
    }
    return out;
}

action_list client_invite::on_timer(timer_name t) noexcept {
    action_list out;
    switch (t) {
        case timer_name::a:
            if (state_ == state::calling) {
                out += send(action_kind::send_request, true);
                out += start(timer_name::a, timer_a(tv_.t1, sent_));
                ++sent_;
            }
            break;
        case timer_name::b:
            if (state_ == state::calling || (state_ == state::proceeding && cancel_guard_)) {
                state_ = state::terminated;
                out += stop(timer_name::a);
                out += fail(transaction_failure::timeout);
                out += terminate();
            }
            break;
        case timer_name::d:
            if (state_ == state::completed) {
                state_ = state::terminated;
                out += terminate();
            }
            break;
        case timer_name::m:
            if (state_ == state::accepted) {
                state_ = state::terminated;
                out += terminate();
            }
            break;
        default: break;  // not a timer of this machine: a late firing does nothing
    }
    return out;
}

}  // namespace b2b::sip::detail
