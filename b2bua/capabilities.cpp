// The capabilities a configuration needs (b2bua --capabilities, for the unit's generator).
#include "b2bua/capabilities.hpp"

#include <fstream>

namespace b2b::b2bua {

std::vector<std::string> needed_capabilities(const config& cfg, std::uint32_t unprivileged_port_start) {
    const auto privileged = [&](std::uint16_t port) { return port != 0 && port < unprivileged_port_start; };
    bool bind = cfg.http.listen && privileged(cfg.http.listen->port);
    for (const auto& l : cfg.sip.listen) bind = bind || privileged(l.address.port);
    if (!bind) return {};
    return {"CAP_NET_BIND_SERVICE"};
}

std::uint32_t unprivileged_port_start() {
    std::ifstream in("/proc/sys/net/ipv4/ip_unprivileged_port_start");
    std::uint32_t start = 1024;
    if (!(in >> start)) return 1024;
    return start;
}

}  // namespace b2b::b2bua
