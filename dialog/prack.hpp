// Reliable provisional responses (RFC 3262): the UAS's retransmissions and PRACK matching, the UAC's RSeq order.
#pragma once

#include "sip/message/message.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace b2b::dialog {

/// The option tag of RFC 3262.
inline constexpr std::string_view option_100rel = "100rel";

/// Whether a header of kind `id` (Supported, Require) names `100rel`.
bool names_100rel(const sip::message& m, sip::header_id id);

/// The value of an RSeq header (§7.1): 1..2^32-1, digits only.
std::optional<std::uint32_t> parse_rseq(std::string_view value) noexcept;

/// What a RAck header names (§7.2): the RSeq and the CSeq number and method of the
/// reliable provisional response a PRACK acknowledges.
struct rack_value {
    std::uint32_t rseq = 0;
    std::uint32_t cseq = 0;
    sip::method method = sip::method::unknown;
    bool operator==(const rack_value&) const = default;
};

/// "776656 1 INVITE" (§7.2); nullopt when malformed.
std::optional<rack_value> parse_rack(std::string_view value) noexcept;

/// "776656 1 INVITE": the RAck value for a provisional with RSeq `rseq` to INVITE CSeq `cseq`.
std::string make_rack(std::uint32_t rseq, std::uint32_t cseq);

/// The RSeq of `response` when it is a reliable provisional (§7.1): a 101-199 with
/// `Require: 100rel` and a valid RSeq. nullopt for any other response.
std::optional<std::uint32_t> reliable_rseq(const sip::message& response);

/// The UAS side of one INVITE's reliable provisional responses (RFC 3262 §3). Sans-I/O: it
/// numbers them, says when to retransmit and when to give up, and matches PRACKs; its owner
/// sends, runs the timer (`next_timer()` from now, then `on_timer()`) and answers the PRACK.
///
///   idle --send--> awaiting_prack --matching PRACK--> idle
///                  awaiting_prack --64*T1 without one--> gave_up
///
/// @par Thread safety
/// None; a value owned by one call.
class reliable_provisional_uas {
public:
    using duration = std::chrono::milliseconds;

    enum class state : std::uint8_t {
        idle,            ///< no reliable provisional unacknowledged: the next one may go
        awaiting_prack,  ///< one was sent; it is retransmitted until its PRACK arrives
        gave_up,         ///< §3: never PRACKed within 64*T1: the INVITE is to be rejected 5xx
    };
    enum class timer_action : std::uint8_t {
        none,        ///< the timer was not due (no provisional outstanding)
        retransmit,  ///< send the same provisional again and wait `next_timer()`
        give_up,     ///< 64*T1 passed: reject the INVITE with a 5xx
    };

    /// `first_rseq` must be in 1..2^31-1 (§3: chosen at random by the owner); `t1` is T1.
    reliable_provisional_uas(std::uint32_t first_rseq, duration t1) noexcept : next_rseq_(first_rseq), t1_(t1) {}

    state current_state() const noexcept { return state_; }
    /// §3: a new reliable provisional may go only when the previous one was PRACKed.
    bool can_send() const noexcept { return state_ == state::idle; }

    /// Numbers a reliable provisional about to be sent (+1 for each, §3) and starts its
    /// retransmissions. `with_sdp`: it carries a session description, which holds back a 2xx
    /// until its PRACK (§3). nullopt (nothing changed) when one is still unacknowledged.
    std::optional<std::uint32_t> send(bool with_sdp) noexcept;

    /// How long from now until `on_timer()` is due: T1, doubling with each retransmission
    /// (§3: no T2 cap), never past 64*T1 from the first send.
    duration next_timer() const noexcept;
    timer_action on_timer() noexcept;

    /// A PRACK with RAck `rack` for the INVITE with CSeq number `invite_cseq` (§7.2): true
    /// when it names the unacknowledged provisional (which then stops being retransmitted);
    /// false when it matches nothing (the owner answers 481).
    bool on_prack(const rack_value& rack, std::uint32_t invite_cseq) noexcept;

    /// §3: the 2xx must wait, because an unacknowledged reliable provisional carried SDP.
    bool holds_back_2xx() const noexcept { return state_ == state::awaiting_prack && with_sdp_; }
    /// The RSeq of the provisional last sent (0 before any).
    std::uint32_t last_rseq() const noexcept { return last_rseq_; }
    /// Retransmissions of the current provisional so far.
    unsigned retransmissions() const noexcept { return retransmissions_; }

private:
    state state_ = state::idle;
    std::uint32_t next_rseq_;
    std::uint32_t last_rseq_ = 0;
    duration t1_;
    duration elapsed_{0};
    unsigned retransmissions_ = 0;
    bool with_sdp_ = false;
};

/// The UAC side (RFC 3262 §4): per early dialog (the provisional's To tag), the RSeq of the
/// last in-order reliable provisional. The first one of a dialog starts the count; then
/// only RSeq + 1 is new and PRACKed; a repeat is a retransmission (our PRACK's transaction
/// is still retransmitting it, §4) and one that skips numbers is out of order: both are
/// neither PRACKed nor processed further.
///
/// @par Thread safety
/// None; a value owned by one call.
class reliable_provisional_uac {
public:
    enum class verdict : std::uint8_t {
        in_order,      ///< new: PRACK it and process it
        duplicate,     ///< RSeq already seen: drop
        out_of_order,  ///< a gap in RSeq: drop (§4: MAY cache; we don't, the UAS retransmits)
    };

    verdict on_reliable(std::string_view to_tag, std::uint32_t rseq);

private:
    std::vector<std::pair<std::string, std::uint32_t>> last_;  // To tag, last in-order RSeq
};

}  // namespace b2b::dialog
