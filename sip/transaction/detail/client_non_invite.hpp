// The non-INVITE client transaction of RFC 3261 §17.1.2, sans-I/O.
#pragma once

#include "sip/transaction/detail/machine.hpp"

#include <string_view>

namespace b2b::sip::detail {

/// Trying → Proceeding → Completed → Terminated (Figure 6). Turns events into actions.
class client_non_invite {
public:
    enum class state : std::uint8_t { trying, proceeding, completed, terminated };

    explicit client_non_invite(const timer_values& tv) noexcept : tv_(tv) {}

    action_list on_event(const event& ev) noexcept;

    state current() const noexcept { return state_; }

private:
    action_list on_response(int status) noexcept;
    action_list on_timer(timer_name t) noexcept;

    timer_values tv_;
    state state_ = state::trying;
    unsigned sent_ = 0;  // transmissions of the request so far (Timer E backoff)
};

std::string_view to_string(client_non_invite::state s) noexcept;

}  // namespace b2b::sip::detail
