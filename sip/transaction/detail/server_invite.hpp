// The INVITE server transaction of RFC 3261 §17.2.1 with RFC 6026's Accepted state, sans-I/O.
#pragma once

#include "sip/transaction/detail/machine.hpp"

#include <string_view>

namespace b2b::sip::detail {

/// Proceeding → Completed (non-2xx) → Confirmed → Terminated, or Proceeding → Accepted (2xx)
/// → Terminated (Figure 7, RFC 6026 Figure 5). In Accepted it also retransmits the 2xx for the
/// TU (§13.3.1.4) until the TU reports the ACK. Turns events into actions.
class server_invite {
public:
    enum class state : std::uint8_t { proceeding, completed, confirmed, accepted, terminated };

    explicit server_invite(const timer_values& tv) noexcept : tv_(tv) {}

    action_list on_event(const event& ev) noexcept;

    state current() const noexcept { return state_; }
    /// The TU has sent a response (provisional or final) that a retransmission can repeat.
    bool has_response() const noexcept { return has_response_; }
    /// A final response went out: the TU may not send another.
    bool has_final() const noexcept { return state_ != state::proceeding; }

private:
    action_list on_tu_response(int status) noexcept;
    action_list on_timer(timer_name t) noexcept;

    timer_values tv_;
    state state_ = state::proceeding;
    bool has_response_ = false;
    bool acked_ = false;   // Accepted: the TU matched the ACK for the 2xx
    unsigned resent_ = 0;  // retransmissions of the final response (Timer G / 2xx backoff)
};

std::string_view to_string(server_invite::state s) noexcept;

}  // namespace b2b::sip::detail
