// `b2bua parse`: one raw SIP message in, its parsed form as JSON out.
#pragma once

#include "sip/message/message.hpp"

#include <iosfwd>
#include <string>
#include <string_view>

namespace b2b::b2bua {

/// The JSON document `b2bua parse` prints for a parsed message (one line, no trailing newline).
std::string message_to_json(const sip::message& m);

/// Parses and validates `bytes` as one datagram. On success writes the JSON and a newline to
/// `out` and returns 0; otherwise writes one line naming the problem to `err` and returns 1.
int run_parse(std::string_view bytes, std::ostream& out, std::ostream& err);

}  // namespace b2b::b2bua
