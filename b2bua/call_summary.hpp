// What the core tells operators about a call: while it runs (the admin API's calls) and once it
// has ended (its call detail record).
#pragma once

#include "b2bua/b2bua_metrics.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace b2b::b2bua {

/// One call as an operator sees it. Copied out of the core: safe to hand to another thread.
struct call_summary {
    std::uint64_t id = 0;
    call_direction direction = call_direction::outbound;
    /// "trying" (no provisional yet), "ringing", "answered", "ending".
    std::string state;
    std::string trunk;   ///< the trunk it goes to (outbound) or comes from (inbound); "" before routing
    std::string peer;    ///< inbound: the PBX target's name
    std::string caller;  ///< the caller's number as received (From user part)
    std::string dialled; ///< the dialled number as received (Request-URI user part)
    std::string inbound_call_id;   ///< the caller's leg
    std::string outbound_call_id;  ///< our leg to the far end; "" when no attempt was sent
    std::chrono::system_clock::time_point start{};
    std::optional<std::chrono::system_clock::time_point> answer;
};

/// Who ended an answered call.
enum class hangup_party : std::uint8_t { none, caller, callee, b2bua };
std::string_view to_string(hangup_party p) noexcept;

/// The call detail record of an ended call: what an operator reconciles with the provider's bill.
struct call_record {
    call_summary call;
    std::chrono::system_clock::time_point end{};
    std::string result;  ///< the setup result (call_result's name), "answered" for a call that was
    int status = 0;      ///< the final status the caller got (200 when answered); 0 = none sent
    hangup_party hangup_by = hangup_party::none;  ///< answered calls: who sent the first BYE
    std::string end_reason;
};

}  // namespace b2b::b2bua
