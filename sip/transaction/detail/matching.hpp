// Transaction keys: how requests (§17.2.3) and responses (§17.1.3) find their transaction.
#pragma once

#include "sip/message/message.hpp"

#include <string>
#include <string_view>

namespace b2b::sip::detail {

/// The top Via carries an RFC 3261 branch: the magic cookie and something after it.
/// `branch=z9hG4bK` alone (RFC 4475 §3.2.1) falls back to RFC 2543 matching.
bool has_rfc3261_branch(const via& v) noexcept;

/// Writes into `out` the key of the server transaction that request `m` belongs to, with
/// `method_text` standing for the method (ACK and CANCEL look up "INVITE"). With an RFC 3261
/// branch (§17.2.3): branch, sent-by (host lower-cased, default port filled in) and method.
/// Otherwise the RFC 2543 rules: Request-URI, From tag, Call-ID, CSeq number, method and top
/// Via; the To tag is compared by the caller, since an ACK's differs from its INVITE's.
/// Returns true for an RFC 3261 key. `m` must have a Via (validate_request checks that).
bool server_key(std::string& out, const message& m, std::string_view method_text);

/// The key of a request's method for server matching: ACK shares its INVITE's transaction.
std::string_view server_method(const message& m) noexcept;

/// Writes into `out` the client transaction key (§17.1.3): branch and method.
void client_key(std::string& out, std::string_view branch, std::string_view method_text);

}  // namespace b2b::sip::detail
