// b2bua_build_info: which build is running, as the usual constant-1 gauge with the identity in labels.
#pragma once

#include <prometheus/registry.h>

#include <string_view>

namespace b2b::metrics {

/// The project's version (CMake PROJECT_VERSION).
std::string_view build_version() noexcept;
/// The git commit the build was configured from (short hash), "unknown" outside a git checkout.
std::string_view build_revision() noexcept;

/// Adds b2bua_build_info{version,revision} = 1 to `registry`: joined (`* on() group_left`) to
/// other series, it tells which build produced them, and changes when a new one is deployed.
void add_build_info(prometheus::Registry& registry);

}  // namespace b2b::metrics
