// Non-INVITE server transaction (RFC 3261 §17.2.2): transitions and timers.
#include "sip/transaction/detail/server_non_invite.hpp"

namespace b2b::sip::detail {

std::string_view to_string(server_non_invite::state s) noexcept {
    switch (s) {
        case server_non_invite::state::trying: return "Trying";
        case server_non_invite::state::proceeding: return "Proceeding";
        case server_non_invite::state::completed: return "Completed";
        case server_non_invite::state::terminated: return "Terminated";
    }
    return "?";
}

action_list server_non_invite::on_event(const event& ev) noexcept {
    action_list out;
    switch (ev.kind) {
        case event_kind::start:
            if (state_ == state::trying) {
                out += pass_to_tu();
            }
            break;
        case event_kind::request:
            // §17.2.2: discarded in Trying; the latest response again in Proceeding/Completed.
            out += absorb();
            if (state_ == state::proceeding || state_ == state::completed) {
                out += send(action_kind::send_response, true);
            }
            break;
        case event_kind::tu_response:
            if (state_ != state::trying && state_ != state::proceeding) {
                break;
            }
            out += send(action_kind::send_response);
            if (ev.status < 200) {
                state_ = state::proceeding;
            } else {
                // Timer J absorbs request retransmissions (zero when reliable).
                state_ = state::completed;
                out += start(timer_name::j, tv_.timer_j());
            }
            break;
        case event_kind::timer:
            if (ev.timer == timer_name::j && state_ == state::completed) {
                state_ = state::terminated;
                out += terminate();
            }
            break;
        case event_kind::transport_error:
            switch (state_) {
                case state::trying:
                case state::proceeding:
                case state::completed:
                    // §17.2.4: a response could not be sent; tell the TU.
                    state_ = state::terminated;
                    out += fail(transaction_failure::transport_error);
                    out += terminate();
                    break;
                case state::terminated: break;
            }
            break;
        case event_kind::response:
        case event_kind::ack:
        case event_kind::tu_ack:
        case event_kind::cancel_sent:
        case event_kind::tu_gave_up:
            break;
    }
    return out;
}

}  // namespace b2b::sip::detail
