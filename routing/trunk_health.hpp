// A trunk's health as its OPTIONS pings tell it: a two-state machine with hysteresis.
#pragma once

#include <cstdint>
#include <string_view>

namespace b2b::routing {

/// Whether the answer to an OPTIONS ping shows a trunk able to take calls. `status` is the
/// final response's code, or 0 when none came (timeout, transport error).
///
/// Any final response proves that the peer's SIP stack is alive and parsing our requests,
/// even a 404 or 405 (OPTIONS may be unsupported or the user unknown) or a 401/407 we could
/// not answer: that is what a keep-alive checks (RFC 3261 §11). Two codes do not: 503 is the
/// peer saying it cannot serve requests now (overload, maintenance, §21.5.4: the very answer
/// that makes us fail calls over), and 408 comes from a proxy whose next hop did not answer,
/// i.e. the trunk's gateway behind it is silent.
constexpr bool ping_answered(int status) noexcept { return status >= 200 && status != 408 && status != 503; }

/// Up or down, from consecutive ping outcomes: down after `down_after` failures in a row, up
/// again after `up_after` answers in a row, so one lost datagram does not flap a trunk. Starts
/// up: at start nothing is known against the trunk, and refusing calls until the first pings
/// came back would turn every restart into an outage. Pure and time-free: the prober decides
/// when a ping has failed.
class trunk_health {
public:
    enum class state : std::uint8_t { up, down };

    trunk_health(unsigned down_after, unsigned up_after) noexcept
        : down_after_(down_after == 0 ? 1 : down_after), up_after_(up_after == 0 ? 1 : up_after) {}

    /// One ping's outcome. Returns true when the state changed.
    bool on_ping(bool answered) noexcept;

    state current() const noexcept { return state_; }
    bool up() const noexcept { return state_ == state::up; }

private:
    unsigned down_after_;
    unsigned up_after_;
    state state_ = state::up;
    unsigned streak_ = 0;  // outcomes in a row that point away from the current state
};

constexpr std::string_view to_string(trunk_health::state s) noexcept {
    return s == trunk_health::state::up ? "up" : "down";
}

}  // namespace b2b::routing
