// Failover decisions.
#include "routing/failover.hpp"

#include <algorithm>
#include <charconv>

namespace b2b::routing {

std::optional<std::chrono::seconds> retry_after_seconds(std::string_view value) noexcept {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    unsigned long long s = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), s);
    if (ec == std::errc::result_out_of_range) return std::chrono::seconds(86400);
    if (ec != std::errc() || end == value.data()) return std::nullopt;
    return std::chrono::seconds(std::min<unsigned long long>(s, 86400));
}

}  // namespace b2b::routing
