// The REGISTERs one registration client sends (RFC 3261 §10.2): what they share, and one send.
#pragma once

#include "dialog/dialog.hpp"
#include "sip/message/outbound_request.hpp"
#include "sip/transport/flow.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace b2b::registration {
struct registration_target;
}

namespace b2b::registration::detail {

/// Everything the REGISTERs of one client have in common, and what the next send carries.
/// Shared by the client and the builders of its requests: the request sender calls the builder
/// again for a re-send with credentials or after a 423, and each build takes the next CSeq.
struct register_request {
    // For the client's whole life (§10.2.4: refreshes keep Call-ID and From tag).
    std::string call_id;
    std::string from;         ///< "<sip:user@domain>;tag=..."
    std::string to;           ///< "<sip:user@domain>"
    std::string request_uri;  ///< "sip:domain", ";transport=tcp" over TCP (§10.2: no user part)
    std::uint32_t cseq = 0;   ///< of the last REGISTER built

    // Set before each REGISTER (the flow, and so our address, may change between sends).
    dialog::local_identity self;
    std::string contact;      ///< "<sip:token@host:port>", ";expires=0" when removing
    std::string contact_host_port;  ///< the host:port in `contact`
    std::string expires;      ///< the Expires header: the interval asked, "0" when removing
};

/// The lasting part, for `t`, with a fresh Call-ID and From tag.
register_request make_register_request(const registration_target& t, std::string_view call_id,
                                       std::string_view from_tag);

/// Prepares the next REGISTER on `f`: our identity on that flow, and a Contact asking for
/// `expires` (0 removes our binding, §10.2.2).
void aim(register_request& r, const registration_target& t, const sip::flow& f, std::chrono::seconds expires);

/// Builds one REGISTER (a new transaction: CSeq + 1) with branch `branch`, and the credentials
/// header `auth_name: auth_value` when `auth_name` is not empty.
sip::outbound_request build(register_request& r, std::string_view branch, std::string_view auth_name,
                            std::string_view auth_value);

/// The host and port of a Contact host:port we wrote ("127.0.0.1:5070", "[::1]:5070", "pbx.example:5070").
struct host_port {
    std::string_view host;
    std::uint16_t port = 0;
};
host_port split_host_port(std::string_view hp) noexcept;

}  // namespace b2b::registration::detail
