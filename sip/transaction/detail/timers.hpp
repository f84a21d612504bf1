// RFC 3261 §17 timer names and the pure functions that give their durations.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace b2b::sip::detail {

using std::chrono::milliseconds;

/// The timers of RFC 3261 §17 (Table 4) and RFC 6026 (L, M), plus the 2xx retransmission
/// that §13.3.1.4 gives the UAS core and that the INVITE server transaction runs for it.
enum class timer_name : std::uint8_t {
    a,               ///< INVITE request retransmit, UDP only
    b,               ///< INVITE transaction timeout (and the §9.1 wait after a CANCEL)
    d,               ///< wait time for response retransmits (client INVITE, Completed)
    e,               ///< non-INVITE request retransmit, UDP only
    f,               ///< non-INVITE transaction timeout
    g,               ///< INVITE non-2xx response retransmit, UDP only
    h,               ///< wait time for the ACK of a non-2xx
    i,               ///< wait time for ACK retransmits
    j,               ///< wait time for non-INVITE request retransmits
    k,               ///< wait time for non-INVITE response retransmits
    l,               ///< wait time for the ACK of a 2xx, and for INVITE retransmits (RFC 6026)
    m,               ///< wait time for 2xx retransmits (client INVITE, Accepted, RFC 6026)
    retransmit_2xx,  ///< the 2xx retransmission of §13.3.1.4
};
inline constexpr std::size_t timer_count = 13;

constexpr std::string_view to_string(timer_name t) noexcept {
    switch (t) {
        case timer_name::a: return "A";
        case timer_name::b: return "B";
        case timer_name::d: return "D";
        case timer_name::e: return "E";
        case timer_name::f: return "F";
        case timer_name::g: return "G";
        case timer_name::h: return "H";
        case timer_name::i: return "I";
        case timer_name::j: return "J";
        case timer_name::k: return "K";
        case timer_name::l: return "L";
        case timer_name::m: return "M";
        case timer_name::retransmit_2xx: return "2xx";
    }
    return "?";
}

/// T1, T2, T4 and whether the transport is reliable: everything a machine needs to time itself.
struct timer_values {
    milliseconds t1{500};
    milliseconds t2{4000};
    milliseconds t4{5000};
    bool reliable = false;

    /// B, F, H, J (UDP), L and M are all 64*T1 (§17.1.1.2, §17.1.2.2, §17.2.1, RFC 6026 §8.4).
    constexpr milliseconds timeout() const noexcept { return 64 * t1; }

    /// Timer D: at least 32 s over UDP, zero over a reliable transport (§17.1.1.2).
    constexpr milliseconds timer_d() const noexcept {
        return reliable ? milliseconds{0} : std::max(milliseconds{32000}, 64 * t1);
    }
    /// Timers I and K: T4 over UDP, zero over a reliable transport (§17.2.1, §17.1.2.2).
    constexpr milliseconds timer_i() const noexcept { return reliable ? milliseconds{0} : t4; }
    constexpr milliseconds timer_k() const noexcept { return reliable ? milliseconds{0} : t4; }
    /// Timer J: 64*T1 over UDP, zero over a reliable transport (§17.2.2).
    constexpr milliseconds timer_j() const noexcept {
        return reliable ? milliseconds{0} : timeout();
    }
};

/// The n-th retransmission interval (n = 0 for the first): T1 doubled n times, never above
/// `cap`. Timer A has no cap (§17.1.1.2); E, G and the 2xx retransmission cap at T2
/// (§17.1.2.2, §17.2.1, §13.3.1.4). Saturates instead of overflowing for large n.
constexpr milliseconds backoff(milliseconds t1, unsigned n, milliseconds cap) noexcept {
    milliseconds d = t1;
    for (unsigned i = 0; i < n && d < cap; ++i) {
        d *= 2;
    }
    return std::min(d, cap);
}

/// Timer A: T1, 2*T1, 4*T1, ... uncapped, but Timer B ends the transaction long before
/// the doubling could overflow.
constexpr milliseconds timer_a(milliseconds t1, unsigned n) noexcept {
    return backoff(t1, n, milliseconds::max() / 2);
}

}  // namespace b2b::sip::detail
