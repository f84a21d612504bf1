// One call: leg A (the PBX's dialog, we are its UAS) and leg B (the trunk's, we are its UAC).
#pragma once

#include "b2bua/b2bua_metrics.hpp"
#include "dialog/dialog.hpp"
#include "dialog/request_sender.hpp"
#include "routing/trunk.hpp"
#include "sip/message/message.hpp"
#include "sip/transaction/timer_service.hpp"
#include "sip/transaction/transaction_manager.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::b2bua {

enum class call_state : std::uint8_t {
    calling,     ///< INVITE sent on leg B, no final answer to the PBX yet
    cancelling,  ///< the PBX got its final answer (487, 408, ...); leg B's INVITE is being cancelled
    answered,    ///< the trunk's 2xx went to the PBX; waiting for the PBX's ACK
    confirmed,   ///< both legs up
    ending,      ///< BYE sent on one leg or both; waiting for the answers
};

constexpr std::string_view to_string(call_state s) noexcept {
    switch (s) {
        case call_state::calling: return "calling";
        case call_state::cancelling: return "cancelling";
        case call_state::answered: return "answered";
        case call_state::confirmed: return "confirmed";
        case call_state::ending: return "ending";
    }
    return "?";
}

struct call {
    std::uint64_t id = 0;
    call_state state = call_state::calling;
    std::shared_ptr<const routing::trunk> trunk;
    std::size_t trunk_index = 0;
    sip::timer_service::time_point started{};
    sip::timer_service::time_point answered{};
    /// Max ringing, then the CANCEL guard (§9.1), then the maximum duration: one at a time.
    sip::timer_service::timer_id timer = 0;
    std::optional<call_result> result;  ///< setup result, counted once
    std::string end_reason;

    // Leg A: the PBX's INVITE (owned: responses are built from it), its transaction and flow.
    sip::message a_invite;
    sip::transaction_id a_txn = 0;
    sip::flow a_flow;
    std::string a_tag;       ///< our To tag towards the PBX, the same in every response
    dialog::dialog_state a_dialog;   ///< filled when the call is answered (for a BYE to the PBX)
    bool a_final_sent = false;
    bool bye_a_after_ack = false;  ///< the trunk hung up before the PBX's ACK arrived

    // Leg B.
    dialog::dialog_state b;
    unsigned max_forwards = 70;
    std::string content_type;
    dialog::request_handle b_invite;  ///< the INVITE, through any re-sends with credentials
    std::uint32_t b_invite_cseq = 0;  ///< CSeq of the INVITE the trunk answered with 2xx
    bool b_invite_done = false;  ///< the INVITE has its final response (or is given up)
    bool b_answered = false;
    std::string b_ack;           ///< the ACK for the trunk's 2xx, re-sent on 2xx retransmissions

    /// Requests under way for this call (BYEs); abandoned when the call ends.
    std::vector<dialog::request_handle> requests;
    int pending_byes = 0;
};

}  // namespace b2b::b2bua
