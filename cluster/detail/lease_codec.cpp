// The lease scripts: each runs atomically on the server (Lua), so check-and-set needs no WATCH.
#include "cluster/detail/lease_codec.hpp"

#include "cluster/error.hpp"

namespace b2b::cluster::detail {

namespace {

// KEYS: the lease keys; ARGV[1]: this node; ARGV[2]: the ttl in ms. GET gives false for a
// missing key, so "not cur" is SET NX's condition, inside the same atomic script.
constexpr const char* renew_script = R"lua(
local holders = {}
for i, key in ipairs(KEYS) do
  local cur = redis.call('GET', key)
  if cur == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    holders[i] = ARGV[1]
  elseif not cur then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    holders[i] = ARGV[1]
  else
    holders[i] = cur
  end
end
return holders
)lua";

// KEYS: the lease keys; ARGV[1]: this node. Returns how many were deleted.
constexpr const char* release_script = R"lua(
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    n = n + 1
  end
end
return n
)lua";

std::vector<std::string> eval_command(const char* script, const std::string& prefix,
                                      std::span<const std::string> names) {
    std::vector<std::string> args{"EVAL", script, std::to_string(names.size())};
    args.reserve(args.size() + names.size() + 2);
    for (const auto& n : names) args.push_back(lease_key(prefix, n));
    return args;
}

}  // namespace

std::string lease_key(const std::string& prefix, const std::string& name) {
    return prefix + ":lease:" + name;
}

std::vector<std::string> renew_command(const std::string& prefix,
                                       std::span<const std::string> names, const std::string& node,
                                       std::chrono::milliseconds ttl) {
    auto args = eval_command(renew_script, prefix, names);
    args.push_back(node);
    args.push_back(std::to_string(ttl.count()));
    return args;
}

boost::system::result<std::vector<std::string>> parse_renew(const redis_reply& reply,
                                                            std::size_t names) {
    if (!reply.is_array() || reply.elements.size() != names) return errc::protocol_error;
    std::vector<std::string> holders;
    holders.reserve(names);
    for (const auto& e : reply.elements) {
        if (!e.is_string()) return errc::protocol_error;
        holders.push_back(e.text);
    }
    return holders;
}

std::vector<std::string> release_command(const std::string& prefix,
                                         std::span<const std::string> names,
                                         const std::string& node) {
    auto args = eval_command(release_script, prefix, names);
    args.push_back(node);
    return args;
}

}  // namespace b2b::cluster::detail
