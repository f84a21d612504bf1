// The INVITE session state machine: one switch over the events.
#include "dialog/invite_session.hpp"

namespace b2b::dialog {

std::string_view to_string(session_state s) noexcept {
    switch (s) {
        case session_state::calling: return "calling";
        case session_state::incoming: return "incoming";
        case session_state::early: return "early";
        case session_state::accepted: return "accepted";
        case session_state::confirmed: return "confirmed";
        case session_state::terminating: return "terminating";
        case session_state::terminated: return "terminated";
    }
    return "?";
}

std::string_view to_string(offer_state s) noexcept {
    switch (s) {
        case offer_state::none: return "none";
        case offer_state::local_offer: return "local_offer";
        case offer_state::remote_offer: return "remote_offer";
        case offer_state::stable: return "stable";
    }
    return "?";
}

std::string_view to_string(session_event e) noexcept {
    switch (e) {
        case session_event::invite_sent: return "invite_sent";
        case session_event::invite_received: return "invite_received";
        case session_event::provisional_sent: return "provisional_sent";
        case session_event::provisional_received: return "provisional_received";
        case session_event::success_sent: return "success_sent";
        case session_event::success_received: return "success_received";
        case session_event::failure_sent: return "failure_sent";
        case session_event::failure_received: return "failure_received";
        case session_event::ack_sent: return "ack_sent";
        case session_event::ack_received: return "ack_received";
        case session_event::bye_sent: return "bye_sent";
        case session_event::bye_received: return "bye_received";
        case session_event::bye_done: return "bye_done";
        case session_event::given_up: return "given_up";
    }
    return "?";
}

// RFC 3264 §4 and RFC 3261 §13.2.1 for INVITE: the first message with a body in the
// INVITE/2xx/ACK exchange is the offer, the next one from the other side the answer. A body in
// an unreliable provisional is a preview of the answer, not a step (the caller does not report it).
void invite_session::offer_answer(bool with_body, bool ours) noexcept {
    if (!with_body) return;
    switch (offer_) {
        case offer_state::none:
        case offer_state::stable:
            offer_ = ours ? offer_state::local_offer : offer_state::remote_offer;
            return;
        case offer_state::local_offer:
            if (!ours) offer_ = offer_state::stable;
            return;
        case offer_state::remote_offer:
            if (ours) offer_ = offer_state::stable;
            return;
    }
}

bool invite_session::on(session_event e, bool with_body) noexcept {
    const bool uac = role_ == session_role::uac;
    switch (e) {
        case session_event::invite_sent:
            if (!uac || state_ != session_state::calling || offer_ != offer_state::none) return false;
            offer_answer(with_body, true);
            return true;
        case session_event::invite_received:
            if (uac || state_ != session_state::incoming || offer_ != offer_state::none) return false;
            offer_answer(with_body, false);
            return true;
        case session_event::provisional_sent:
            if (uac || (state_ != session_state::incoming && state_ != session_state::early)) return false;
            state_ = session_state::early;
            return true;
        case session_event::provisional_received:
            if (!uac || (state_ != session_state::calling && state_ != session_state::early)) return false;
            state_ = session_state::early;
            return true;
        case session_event::success_sent:
        case session_event::success_received:
            if (uac != (e == session_event::success_received)) return false;
            if (state_ != session_state::calling && state_ != session_state::incoming && state_ != session_state::early) {
                return false;
            }
            state_ = session_state::accepted;
            answered_ = true;
            offer_answer(with_body, !uac);
            return true;
        case session_event::failure_sent:
        case session_event::failure_received:
            if (uac != (e == session_event::failure_received)) return false;
            if (!pending()) return false;
            state_ = session_state::terminated;
            return true;
        case session_event::ack_sent:
        case session_event::ack_received:
            if (uac != (e == session_event::ack_sent) || state_ != session_state::accepted) return false;
            state_ = session_state::confirmed;
            offer_answer(with_body, uac);
            return true;
        case session_event::bye_sent:
            // §15: the caller may send BYE on a confirmed dialog; a UAS may not before the ACK
            // has had its chance, so an accepted UAS session may send one too (after Timer L we
            // give up instead). A UAC ends an accepted session by ACK then BYE.
            if (state_ != session_state::confirmed && state_ != session_state::accepted) return false;
            state_ = session_state::terminating;
            return true;
        case session_event::bye_received:
            if (state_ == session_state::terminated) return false;
            state_ = session_state::terminated;
            return true;
        case session_event::bye_done:
            if (state_ != session_state::terminating) return false;
            state_ = session_state::terminated;
            return true;
        case session_event::given_up:
            if (state_ == session_state::terminated) return false;
            state_ = session_state::terminated;
            return true;
    }
    return false;
}

}  // namespace b2b::dialog
