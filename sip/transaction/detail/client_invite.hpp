// The INVITE client transaction of RFC 3261 §17.1.1 with RFC 6026's Accepted state, sans-I/O.
#pragma once

#include "sip/transaction/detail/machine.hpp"

#include <string_view>

namespace b2b::sip::detail {

/// Calling → Proceeding → Completed (non-2xx) or Accepted (2xx) → Terminated (Figure 5,
/// RFC 6026 Figure 3). Knows nothing of messages or sockets: it turns events into actions.
class client_invite {
public:
    enum class state : std::uint8_t { calling, proceeding, completed, accepted, terminated };

    explicit client_invite(const timer_values& tv) noexcept : tv_(tv) {}

    action_list on_event(const event& ev) noexcept;

    state current() const noexcept { return state_; }

private:
    action_list on_response(int status) noexcept;
    action_list on_timer(timer_name t) noexcept;

    timer_values tv_;
    state state_ = state::calling;
    unsigned sent_ = 0;          // transmissions of the request so far (Timer A backoff)
    bool cancel_guard_ = false;  // Timer B re-armed after a CANCEL (§9.1)
};

std::string_view to_string(client_invite::state s) noexcept;

}  // namespace b2b::sip::detail
