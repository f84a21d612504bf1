// The requests the transaction layer writes itself: ACK for a non-2xx (§17.1.1.3), CANCEL (§9.1).
#pragma once

#include "sip/message/message.hpp"
#include "sip/message/outbound_request.hpp"

#include <string>
#include <string_view>

namespace b2b::sip::detail {

/// The ACK for non-2xx final `response` to INVITE `request` (§17.1.1.3): the request's
/// Request-URI, Call-ID, From, top Via and Route headers, CSeq number with method ACK, the
/// response's To (with its tag), Max-Forwards 70 and Content-Length 0.
std::string make_ack(const outbound_request& request, const message& response);

/// The CANCEL for INVITE `request` (§9.1): the request's Request-URI, Call-ID, From, To, top
/// Via and Route headers, CSeq number with method CANCEL, Max-Forwards 70, an optional
/// Reason header (RFC 3326; `reason` is its value) and Content-Length 0.
outbound_request make_cancel(const outbound_request& request, std::string_view reason = {});

}  // namespace b2b::sip::detail
