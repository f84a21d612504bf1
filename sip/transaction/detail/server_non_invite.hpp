// The non-INVITE server transaction of RFC 3261 §17.2.2, sans-I/O.
#pragma once

#include "sip/transaction/detail/machine.hpp"

#include <string_view>

namespace b2b::sip::detail {

/// Trying → Proceeding → Completed → Terminated (Figure 8). Turns events into actions.
class server_non_invite {
public:
    enum class state : std::uint8_t { trying, proceeding, completed, terminated };

    explicit server_non_invite(const timer_values& tv) noexcept : tv_(tv) {}

    action_list on_event(const event& ev) noexcept;

    state current() const noexcept { return state_; }
    bool has_final() const noexcept {
        return state_ == state::completed || state_ == state::terminated;
    }

private:
    timer_values tv_;
    state state_ = state::trying;
};

std::string_view to_string(server_non_invite::state s) noexcept;

}  // namespace b2b::sip::detail
