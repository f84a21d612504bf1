// The lease scripts (renew-or-take, compare-and-delete) and the parsing of their replies (no I/O).
#pragma once

#include "cluster/detail/redis_reply.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace b2b::cluster::detail {

/// The key of lease `name`: "<prefix>:lease:<name>".
std::string lease_key(const std::string& prefix, const std::string& name);

/// One EVAL that, atomically for every name, keeps `node`'s lease for `ttl` more (when it holds
/// it), takes it for `ttl` (when nobody does), or leaves it; the reply names each one's holder.
std::vector<std::string> renew_command(const std::string& prefix,
                                       std::span<const std::string> names, const std::string& node,
                                       std::chrono::milliseconds ttl);

/// The holders from a renew_command reply, in the order the names were given.
boost::system::result<std::vector<std::string>> parse_renew(const redis_reply& reply,
                                                            std::size_t names);

/// One EVAL that deletes each name's key only where `node` still holds it: a lease another node
/// took after ours ran out is left alone.
std::vector<std::string> release_command(const std::string& prefix,
                                         std::span<const std::string> names,
                                         const std::string& node);

}  // namespace b2b::cluster::detail
