// The event stream's commands and the parsing of their replies (no I/O).
#pragma once

#include "cluster/detail/redis_reply.hpp"
#include "cluster/event.hpp"

#include <boost/system/result.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::cluster::detail {

/// XADD <key> MAXLEN ~ <max_length> * node <node> kind <kind> body <body>
std::vector<std::string> xadd_command(const std::string& key, std::size_t max_length,
                                      const std::string& node, const std::string& kind,
                                      const std::string& body);

/// XREAD COUNT <count> STREAMS <key> <after>: without BLOCK, so it answers at once.
std::vector<std::string> xread_command(const std::string& key, std::size_t count,
                                       const std::string& after);

/// XREVRANGE <key> + - COUNT 1: the newest entry, to learn where the stream ends.
std::vector<std::string> last_entry_command(const std::string& key);

/// The entries of an XREAD reply for `key`, oldest first (nil: none). An entry without a
/// field of ours keeps it empty; a reply of another shape is `errc::protocol_error`.
boost::system::result<std::vector<event>> parse_xread(const redis_reply& reply,
                                                      std::string_view key);

/// The id of the entry of an XREVRANGE ... COUNT 1 reply; nothing when the stream is empty
/// or does not exist.
boost::system::result<std::optional<std::string>> parse_last_entry(const redis_reply& reply);

}  // namespace b2b::cluster::detail
