// Redis stream ids ("<ms>-<seq>") parsed into numbers, so two can be compared.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace b2b::cluster::detail {

/// A stream entry id. Ordered as Redis orders them: by milliseconds, then sequence.
struct stream_id {
    std::uint64_t ms = 0;
    std::uint64_t seq = 0;

    friend auto operator<=>(const stream_id&, const stream_id&) = default;
    std::string to_string() const;
};

/// "<ms>-<seq>", or "<ms>" alone (sequence 0, as XREAD reads it); nothing for anything else.
std::optional<stream_id> parse_stream_id(std::string_view text) noexcept;

}  // namespace b2b::cluster::detail
