// Longest-prefix lookup.
#include "routing/prefix_index.hpp"

#include <algorithm>

namespace b2b::routing {

prefix_index::prefix_index(const std::vector<std::string>& prefixes) {
    for (std::size_t i = 0; i < prefixes.size(); ++i) {
        by_prefix_.insert_or_assign(prefixes[i], i);
        lengths_.push_back(prefixes[i].size());
    }
    std::sort(lengths_.begin(), lengths_.end(), std::greater<>());
    lengths_.erase(std::unique(lengths_.begin(), lengths_.end()), lengths_.end());
}

std::optional<std::size_t> prefix_index::match(std::string_view number) const {
    for (std::size_t len : lengths_) {
        if (len > number.size()) continue;
        if (auto it = by_prefix_.find(number.substr(0, len)); it != by_prefix_.end()) return it->second;
    }
    return std::nullopt;
}

}  // namespace b2b::routing
