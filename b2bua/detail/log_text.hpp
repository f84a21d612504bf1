// Peer-supplied text in log lines, cut to a size an attacker cannot choose.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <string_view>

namespace b2b::b2bua::detail {

/// A field the peer wrote (a user name, a Call-ID, a dialled number), as it goes into a log
/// line: quoted and escaped like `{:?}`, and cut after `max` bytes with the size of the rest, so
/// a 60 KB user name costs a log line ~100 bytes: `"aaaa…"(+61340 bytes)`.
struct clipped {
    std::string_view text;
    std::size_t max = 64;
};

/// The longest peer field a log line carries whole.
inline constexpr std::size_t max_logged_field = 64;

inline clipped clip(std::string_view text, std::size_t max = max_logged_field) noexcept { return {text, max}; }

}  // namespace b2b::b2bua::detail

template <>
struct fmt::formatter<b2b::b2bua::detail::clipped> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const b2b::b2bua::detail::clipped& c, FormatContext& ctx) const {
        if (c.text.size() <= c.max) return fmt::format_to(ctx.out(), "{:?}", c.text);
        // Cut on a byte boundary: {:?} escapes whatever half character is left.
        return fmt::format_to(ctx.out(), "{:?}(+{} bytes)", c.text.substr(0, c.max), c.text.size() - c.max);
    }
};
