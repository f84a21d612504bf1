// What a registration client reads from the responses to its REGISTERs (RFC 3261 §10.2.4, §20).
#pragma once

#include "sip/message/message.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace b2b::registration::detail {

/// Retry-After (§20.33): its delta-seconds (registrar_values.hpp's parse_delta_seconds); a
/// comment and parameters after it are ignored.
std::optional<std::chrono::seconds> retry_after(const sip::message& rsp) noexcept;

/// Min-Expires of a 423 (§20.23).
std::optional<std::chrono::seconds> min_expires(const sip::message& rsp) noexcept;

/// Every Warning value of `rsp`, as received, joined by ", "; empty when there is none.
std::string warning(const sip::message& rsp);

/// The interval a 2xx to our REGISTER grants our binding (§10.2.4): the `expires` parameter of
/// our Contact in its list of current bindings, else its Expires header, else `asked`. Our
/// Contact is the one whose user part is `contact_user` (a registrar may rewrite the host
/// behind NAT), preferably at `our_host_port` (an older binding of ours from before a restart
/// may still be listed). Nullopt when the 2xx lists bindings but none of ours: the registrar
/// kept none.
std::optional<std::chrono::seconds> granted(const sip::message& ok, std::string_view contact_user,
                                            std::string_view our_host_port, std::chrono::seconds asked) noexcept;

}  // namespace b2b::registration::detail
