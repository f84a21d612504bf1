// Emergency numbers.
#include "security/emergency.hpp"

#include "sip/message/uri.hpp"

#include <algorithm>

namespace b2b::security {

bool dials_emergency(std::string_view user, const std::vector<std::string>& numbers) {
    if (user.empty() || numbers.empty()) return false;
    // Unescape only when there is something to unescape: the screen asks this of every request
    // of a configured source, before parsing.
    const std::string unescaped = user.find('%') == std::string_view::npos ? std::string() : sip::unescape(user);
    const std::string_view number = unescaped.empty() ? user : std::string_view(unescaped);
    return std::find(numbers.begin(), numbers.end(), number) != numbers.end();
}

}  // namespace b2b::security
