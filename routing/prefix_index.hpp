// Longest-prefix lookup over a fixed set of prefixes: the core of every number-based table.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace b2b::routing {

/// Maps a number to the position of the longest of a set of prefixes it starts with. One hash
/// probe per distinct prefix length, whatever the table size. Immutable once built.
class prefix_index {
public:
    prefix_index() = default;
    /// Position i of `prefixes` is what `match` returns for it. A repeated prefix keeps its
    /// last position (a later definition replaces an earlier one).
    explicit prefix_index(const std::vector<std::string>& prefixes);

    /// The position of the longest prefix of `number`, or nullopt when none is ("" matches all).
    std::optional<std::size_t> match(std::string_view number) const;

private:
    struct string_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::size_t, string_hash, std::equal_to<>> by_prefix_;
    std::vector<std::size_t> lengths_;  // distinct lengths, longest first
};

}  // namespace b2b::routing
