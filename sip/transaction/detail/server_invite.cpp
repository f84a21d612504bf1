// INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1, §13.3.1.4): transitions and timers.
#include "sip/transaction/detail/server_invite.hpp"

namespace b2b::sip::detail {

std::string_view to_string(server_invite::state s) noexcept {
    switch (s) {
        case server_invite::state::proceeding: return "Proceeding";
        case server_invite::state::completed: return "Completed";
        case server_invite::state::confirmed: return "Confirmed";
        case server_invite::state::accepted: return "Accepted";
        case server_invite::state::terminated: return "Terminated";
    }
    return "?";
}

action_list server_invite::on_event(const event& ev) noexcept {
    action_list out;
    switch (ev.kind) {
        case event_kind::start:
            if (state_ == state::proceeding && !has_response_) {
                out += pass_to_tu();
            }
            break;
        case event_kind::request:
            // §17.2.1: a retransmitted INVITE gets the latest response again; RFC 6026 §7.1:
            // in Accepted it is absorbed (the 2xx retransmission timer covers it).
            out += absorb();
            if ((state_ == state::proceeding && has_response_) || state_ == state::completed) {
                out += send(action_kind::send_response, true);
            }
            break;
        case event_kind::ack:
            switch (state_) {
                case state::completed:
                    // §17.2.1: the ACK for our non-2xx. Timer I absorbs its retransmissions.
                    out += stop(timer_name::g);
                    out += stop(timer_name::h);
                    state_ = state::confirmed;
                    out += start(timer_name::i, tv_.timer_i());
                    break;
                case state::accepted:
                    // RFC 6026 §7.1: an ACK matching in Accepted goes to the TU (it is the ACK
                    // for the 2xx; the TU then calls ack_received).
                    out += pass_to_tu();
                    break;
                case state::proceeding:
                case state::confirmed:
                    out += absorb();
                    break;
                case state::terminated: break;
            }
            break;
        case event_kind::tu_response:
            return on_tu_response(ev.status);
        case event_kind::tu_ack:
            if (state_ == state::accepted && !acked_) {
                // §13.3.1.4: retransmissions cease when the ACK arrives. Stay in Accepted
                // until Timer L so INVITE retransmissions are still absorbed.
                acked_ = true;
                out += stop(timer_name::retransmit_2xx);
            }
            break;
        case event_kind::timer:
            return on_timer(ev.timer);
        case event_kind::transport_error:
            switch (state_) {
                case state::proceeding:
                case state::completed:
                case state::accepted:
                    // §17.2.4: the response could not be sent; tell the TU.
                    state_ = state::terminated;
                    out += fail(transaction_failure::transport_error);
                    out += terminate();
                    break;
                case state::confirmed:
                case state::terminated:
                    break;  // nothing is sent in these states
            }
            break;
        case event_kind::response:
        case event_kind::cancel_sent:
        case event_kind::tu_gave_up:
            break;  // client-side events
    }
    return out;
}

action_list server_invite::on_tu_response(int status) noexcept {
    action_list out;
    if (state_ != state::proceeding) {
        return out;  // the manager refuses a second final response before it gets here
    }
    has_response_ = true;
    out += send(action_kind::send_response);
    if (status < 200) {
        return out;
    }
    if (status < 300) {
        // §13.3.1.4: retransmit the 2xx "independent of whatever transport protocols are
        // used", since a later hop may be UDP. RFC 6026 §7.1: Accepted until Timer L.
        state_ = state::accepted;
        out += start(timer_name::retransmit_2xx, backoff(tv_.t1, 0, tv_.t2));
        out += start(timer_name::l, tv_.timeout());
        return out;
    }
    // §17.2.1: Completed; Timer G retransmits over UDP only, Timer H waits for the ACK.
    state_ = state::completed;
    if (!tv_.reliable) {
        out += start(timer_name::g, backoff(tv_.t1, 0, tv_.t2));
    }
    out += start(timer_name::h, tv_.timeout());
    return out;
}

action_list server_invite::on_timer(timer_name t) noexcept {
    action_list out;
    switch (t) {
        case timer_name::g:
            if (state_ == state::completed) {
                ++resent_;
                out += send(action_kind::send_response, true);
                out += start(timer_name::g, backoff(tv_.t1, resent_, tv_.t2));
            }
            break;
        case timer_name::retransmit_2xx:
            if (state_ == state::accepted && !acked_) {
                ++resent_;
                out += send(action_kind::send_response, true);
                out += start(timer_name::retransmit_2xx, backoff(tv_.t1, resent_, tv_.t2));
            }
            break;
        case timer_name::h:
            if (state_ == state::completed) {
                // §17.2.1: Timer H means the ACK never came.
                state_ = state::terminated;
                out += stop(timer_name::g);
                out += fail(transaction_failure::no_ack);
                out += terminate();
            }
            break;
        case timer_name::i:
            if (state_ == state::confirmed) {
                state_ = state::terminated;
                out += terminate();
            }
            break;
        case timer_name::l:
            if (state_ == state::accepted) {
                // RFC 6026 §7.1 and §13.3.1.4: 64*T1 without the TU seeing the ACK means the
                // session failed; after the ACK, L only ends the absorption of retransmissions.
                state_ = state::terminated;
                out += stop(timer_name::retransmit_2xx);
                if (!acked_) {
                    out += fail(transaction_failure::no_ack);
                }
                out += terminate();
            }
            break;
        default: break;
    }
    return out;
}

}  // namespace b2b::sip::detail
