// Non-INVITE client transaction (RFC 3261 §17.1.2): transitions and timers.
#include "sip/transaction/detail/client_non_invite.hpp"

namespace b2b::sip::detail {

std::string_view to_string(client_non_invite::state s) noexcept {
    switch (s) {
        case client_non_invite::state::trying: return "Trying";
        case client_non_invite::state::proceeding: return "Proceeding";
        case client_non_invite::state::completed: return "Completed";
        case client_non_invite::state::terminated: return "Terminated";
    }
    return "?";
}

action_list client_non_invite::on_event(const event& ev) noexcept {
    action_list out;
    switch (ev.kind) {
        case event_kind::start:
            if (state_ != state::trying || sent_ != 0) {
                break;
            }
            // §17.1.2.2: send, Timer E = T1 over UDP only, Timer F = 64*T1 always.
            out += send(action_kind::send_request);
            sent_ = 1;
            if (!tv_.reliable) {
                out += start(timer_name::e, backoff(tv_.t1, 0, tv_.t2));
            }
            out += start(timer_name::f, tv_.timeout());
            break;
        case event_kind::response:
            return on_response(ev.status);
        case event_kind::timer:
            return on_timer(ev.timer);
        case event_kind::transport_error:
            // §17.1.4. In Completed nothing is sent any more and the TU has its response.
            if (state_ == state::trying || state_ == state::proceeding) {
                state_ = state::terminated;
                out += fail(transaction_failure::transport_error);
                out += terminate();
            }
            break;
        case event_kind::request:
        case event_kind::ack:
        case event_kind::tu_response:
        case event_kind::tu_ack:
        case event_kind::cancel_sent:
        case event_kind::tu_gave_up:
            break;
    }
    return out;
}

action_list client_non_invite::on_response(int status) noexcept {
    action_list out;
    switch (state_) {
        case state::trying:
        case state::proceeding:
            out += pass_to_tu();
            if (status < 200) {
                // Timer E keeps running; from now on it fires every T2 (§17.1.2.2).
                state_ = state::proceeding;
                break;
            }
            out += stop(timer_name::e);
            out += stop(timer_name::f);
            // Timer K absorbs retransmissions of the final response (zero when reliable).
            state_ = state::completed;
            out += start(timer_name::k, tv_.timer_k());
            break;
        case state::completed:
            out += absorb();
            break;
        case state::terminated: break;
    }
    return out;
}

action_list client_non_invite::on_timer(timer_name t) noexcept {
    action_list out;
    switch (t) {
        case timer_name::e:
            if (state_ == state::trying || state_ == state::proceeding) {
                out += send(action_kind::send_request, true);
                out += start(timer_name::e, state_ == state::trying
                                                ? backoff(tv_.t1, sent_, tv_.t2)
                                                : tv_.t2);
                ++sent_;
            }
            break;
        case timer_name::f:
            if (state_ == state::trying || state_ == state::proceeding) {
                state_ = state::terminated;
                out += stop(timer_name::e);
                out += fail(transaction_failure::timeout);
                out += terminate();
            }
            break;
        case timer_name::k:
            if (state_ == state::completed) {
                state_ = state::terminated;
                out += terminate();
            }
            break;
        default: break;
    }
    return out;
}

}  // namespace b2b::sip::detail
