// Targets as written in logs.
#include "sip/resolver/target.hpp"

namespace b2b::sip::resolver {

std::string target::to_string() const { return std::string(sip::to_string(transport)) + " " + address.to_string(); }

}  // namespace b2b::sip::resolver
