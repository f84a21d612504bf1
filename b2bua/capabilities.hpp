// Which Linux capabilities a configuration needs, for the systemd unit's bounding set: the
// service runs with none unless a configured port asks for one.
#pragma once

#include "b2bua/config.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace b2b::b2bua {

/// The capabilities `cfg` needs: CAP_NET_BIND_SERVICE when a SIP listener or the HTTP server
/// has a port below `unprivileged_port_start` (the sysctl net.ipv4.ip_unprivileged_port_start,
/// 1024 by default; port 0 means "any free one" and needs nothing). Empty otherwise.
std::vector<std::string> needed_capabilities(const config& cfg, std::uint32_t unprivileged_port_start);

/// The kernel's net.ipv4.ip_unprivileged_port_start, or 1024 when it cannot be read.
std::uint32_t unprivileged_port_start();

}  // namespace b2b::b2bua
