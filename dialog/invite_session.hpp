// The INVITE session of one leg (RFC 3261 §13-15): a sans-I/O state machine with offer/answer apart.
#pragma once

#include <cstdint>
#include <string_view>

namespace b2b::dialog {

/// Which side of the INVITE we are on this leg.
enum class session_role : std::uint8_t {
    uac,  ///< we sent the INVITE
    uas,  ///< we received it
};

/// Where the session stands. One enum for both roles; each role uses the states that apply.
enum class session_state : std::uint8_t {
    calling,      ///< UAC: INVITE sent, no provisional with a To tag yet
    incoming,     ///< UAS: INVITE received, no provisional with our tag sent yet
    early,        ///< a provisional with a To tag was sent (UAS) or received (UAC): early dialog
    accepted,     ///< 2xx sent (UAS, waiting for the ACK) or received (UAC, ACK not sent yet)
    confirmed,    ///< the 2xx was ACKed: the session is up
    terminating,  ///< BYE sent, waiting for its final response
    terminated,   ///< over: a final non-2xx, a BYE done (either way), or given up
};

std::string_view to_string(session_state s) noexcept;

/// Offer/answer state of the session (RFC 3264 §4, RFC 6337 §2): kept apart from the dialog
/// state because an offer can sit in an INVITE, a 2xx or an ACK (and later UPDATE and PRACK).
enum class offer_state : std::uint8_t {
    none,          ///< no offer made yet
    local_offer,   ///< we sent an offer; the answer is due
    remote_offer,  ///< we received an offer; our answer is due
    stable,        ///< offer and answer exchanged
};

std::string_view to_string(offer_state s) noexcept;

/// What happened on the leg. Events carry whether the message had a session description.
enum class session_event : std::uint8_t {
    invite_sent,           ///< UAC
    invite_received,       ///< UAS
    provisional_sent,      ///< UAS: 1xx with our To tag
    provisional_received,  ///< UAC: 1xx with a To tag
    success_sent,          ///< UAS: 2xx
    success_received,      ///< UAC: 2xx (the first one; retransmissions are not events)
    failure_sent,          ///< UAS: final 3xx-6xx
    failure_received,      ///< UAC: final 3xx-6xx, or the INVITE transaction failed (Timer B)
    ack_sent,              ///< UAC: ACK for the 2xx
    ack_received,          ///< UAS: ACK for the 2xx
    bye_sent,
    bye_received,  ///< a BYE arrived (answered with 200 by its receiver)
    bye_done,      ///< our BYE got its final response, or failed: either way the session is over
    given_up,      ///< no ACK (Timer L/H) or no final response after CANCEL: the session ends
};

std::string_view to_string(session_event e) noexcept;

/// The INVITE session of one leg. Holds no message and performs no I/O: its owner feeds it
/// events and acts on the answer, like the transaction machines (STYLE.md §3). Everything
/// that is not a legal transition is refused and leaves the state alone, so the owner learns
/// that the peer (or the owner) broke the protocol instead of drifting into a wrong state.
///
/// UAC: calling -> early -> accepted -> confirmed -> terminating -> terminated
/// UAS: incoming -> early -> accepted -> confirmed -> terminating -> terminated
/// with "-> terminated" from calling/incoming/early on a final non-2xx, from any live state on
/// a received BYE (§15: a BYE on an early dialog ends it too), and on `given_up`.
///
/// @par Thread safety
/// None; a value owned by one call.
class invite_session {
public:
    explicit invite_session(session_role role) noexcept
        : role_(role), state_(role == session_role::uac ? session_state::calling : session_state::incoming) {}

    /// Applies `e`; `with_body` says whether the message carried a session description.
    /// Returns false, changing nothing, when `e` is not legal in the current state.
    bool on(session_event e, bool with_body = false) noexcept;

    session_role role() const noexcept { return role_; }
    session_state state() const noexcept { return state_; }
    offer_state offer() const noexcept { return offer_; }

    /// The INVITE transaction has its final answer (sent as UAS, received as UAC), or the
    /// session is over in any other way.
    bool has_final() const noexcept {
        return state_ == session_state::accepted || state_ == session_state::confirmed ||
               state_ == session_state::terminating || state_ == session_state::terminated || answered_;
    }
    /// A 2xx was sent or received: the session was established at some point.
    bool answered() const noexcept { return answered_; }
    /// Not terminated.
    bool live() const noexcept { return state_ != session_state::terminated; }
    /// Before any final response: the INVITE may still be cancelled.
    bool pending() const noexcept {
        return state_ == session_state::calling || state_ == session_state::incoming || state_ == session_state::early;
    }

private:
    void offer_answer(bool with_body, bool ours) noexcept;

    session_role role_;
    session_state state_;
    offer_state offer_ = offer_state::none;
    bool answered_ = false;
};

}  // namespace b2b::dialog
