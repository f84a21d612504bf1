// Routes: longest prefix of the dialled number picks the trunk.
#pragma once

#include "routing/prefix_index.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::routing {

/// The number a route dials: `strip` leading characters removed (all of them when it is
/// shorter), then `prepend` put in front. Unescaped text in, unescaped text out.
std::string rewrite_number(std::string_view number, std::size_t strip, std::string_view prepend);

struct route {
    std::string prefix;               ///< digits (or any characters) the dialled user part starts with; "" = default
    std::vector<std::string> trunks;  ///< trunk names, tried in this order (failover); never empty
    std::size_t strip = 0;            ///< leading characters removed from the dialled number...
    std::string prepend;              ///< ...then this put in front of it

    /// The number leg B dials: `strip` leading characters of `dialled` removed (all of them when
    /// it is shorter), then `prepend` put in front. Unescaped text in, unescaped text out.
    std::string rewrite(std::string_view dialled) const;
    /// Whether `rewrite` changes anything.
    bool rewrites() const noexcept { return strip != 0 || !prepend.empty(); }
};

/// Picks the route whose prefix is the longest prefix of the dialled number. Lookups cost
/// one hash probe per distinct prefix length, whatever the table size. Immutable once built.
class route_table {
public:
    route_table() = default;
    /// Later duplicates of a prefix replace earlier ones.
    explicit route_table(std::vector<route> routes);

    /// The route for `user` (the Request-URI user part, unescaped), or nullptr when none
    /// matches (no default route).
    const route* match(std::string_view user) const;

    const std::vector<route>& routes() const noexcept { return routes_; }

private:
    std::vector<route> routes_;
    prefix_index index_;
};

}  // namespace b2b::routing
