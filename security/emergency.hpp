// Emergency numbers: the one test of whether a request dials one, shared by the pre-parse
// screen (security::source_screen) and the call admission stages (b2bua).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace b2b::security {

/// Whether a Request-URI user part, as written on the wire (escapes allowed, RFC 3261 §19.1.2),
/// is one of `numbers` exactly once unescaped: "%31%31%32" dials 112 as surely as "112" does.
/// Such calls pass bans of their own source, flood limits, account limits and overload
/// admission (a caller in distress is not told to retry later).
bool dials_emergency(std::string_view user, const std::vector<std::string>& numbers);

}  // namespace b2b::security
