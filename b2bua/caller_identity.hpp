// Who the caller is, as the other leg is told: From user, P-Asserted-Identity, Privacy, Diversion.
#pragma once

#include "routing/trunk.hpp"
#include "sip/message/message.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace b2b::b2bua {

/// The caller's identity for one outbound attempt. Providers refuse calls (403, mostly) whose
/// From or P-Asserted-Identity carries a number they do not know, so each peer says what it
/// needs. Only user parts, display names and parameters cross; every host is ours, so nothing
/// of the caller's network shows.
struct caller_identity {
    std::string from_user;  ///< escaped user part of our From
    std::vector<std::pair<std::string, std::string>> headers;  ///< P-Asserted-Identity, Privacy, Diversion
};

/// `caller` is the caller's number (escaped, after any rewriting); `host` is our From host.
caller_identity make_caller_identity(const sip::message& invite, const routing::trunk& peer, std::string_view caller,
                                     std::string_view host);

}  // namespace b2b::b2bua
