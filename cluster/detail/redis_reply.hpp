// One Redis reply as a plain value, owning its bytes (no hiredis type leaks past the connection).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace b2b::cluster::detail {

/// A RESP2 reply: nil, integer, bulk string, status line, error line, or an array of replies.
/// Strings are binary-safe (they may hold NUL bytes).
struct redis_reply {
    enum class kind : std::uint8_t { nil, integer, string, status, error, array };

    kind type = kind::nil;
    std::int64_t integer = 0;           ///< for kind::integer
    std::string text;                   ///< for string, status and error
    std::vector<redis_reply> elements;  ///< for kind::array

    bool is_nil() const noexcept { return type == kind::nil; }
    bool is_string() const noexcept { return type == kind::string; }
    bool is_array() const noexcept { return type == kind::array; }
};

}  // namespace b2b::cluster::detail
