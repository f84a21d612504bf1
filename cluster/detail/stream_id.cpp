// Parsing and printing Redis stream ids.
#include "cluster/detail/stream_id.hpp"

#include <charconv>

namespace b2b::cluster::detail {

namespace {

std::optional<std::uint64_t> parse_number(std::string_view text) noexcept {
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
    return value;
}

}  // namespace

std::string stream_id::to_string() const {
    return std::to_string(ms) + "-" + std::to_string(seq);
}

std::optional<stream_id> parse_stream_id(std::string_view text) noexcept {
    const auto dash = text.find('-');
    const auto ms = parse_number(text.substr(0, dash));
    if (!ms) return std::nullopt;
    if (dash == std::string_view::npos) return stream_id{*ms, 0};
    const auto seq = parse_number(text.substr(dash + 1));
    if (!seq) return std::nullopt;
    return stream_id{*ms, *seq};
}

}  // namespace b2b::cluster::detail
