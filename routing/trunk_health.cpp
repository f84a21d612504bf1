// The trunk health machine.
#include "routing/trunk_health.hpp"

namespace b2b::routing {

bool trunk_health::on_ping(bool answered) noexcept {
    switch (state_) {
        case state::up:
            if (answered) {
                streak_ = 0;
                return false;
            }
            if (++streak_ < down_after_) return false;
            state_ = state::down;
            streak_ = 0;
            return true;
        case state::down:
            if (!answered) {
                streak_ = 0;
                return false;
            }
            if (++streak_ < up_after_) return false;
            state_ = state::up;
            streak_ = 0;
            return true;
    }
    return false;
}

}  // namespace b2b::routing
