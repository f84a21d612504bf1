// b2bua_build_info: which build is running, as the usual constant-1 gauge with the identity in labels.
#pragma once

#include <prometheus/registry.h>

#include <string_view>

namespace b2b::metrics {

/// Adds b2bua_build_info{version,revision} = 1 to `registry`: joined (`* on() group_left`) to
/// other series, it tells which build produced them, and changes when a new one is deployed.
/// The program passes its b2b::version values; the registry takes no side on where they come from.
void add_build_info(prometheus::Registry& registry, std::string_view version, std::string_view revision);

}  // namespace b2b::metrics
