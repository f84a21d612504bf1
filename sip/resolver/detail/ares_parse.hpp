// c-ares answers (raw DNS messages) into our record types, through c-ares's own parsers.
#pragma once

#include "sip/resolver/records.hpp"

#include <span>

namespace b2b::sip::resolver::detail {

/// `status` is the c-ares status the query ended with; `message` the answer when ARES_SUCCESS.
naptr_answer parse_naptr(int status, std::span<const unsigned char> message);
srv_answer parse_srv(int status, std::span<const unsigned char> message);
address_answer parse_a(int status, std::span<const unsigned char> message);
address_answer parse_aaaa(int status, std::span<const unsigned char> message);

}  // namespace b2b::sip::resolver::detail
