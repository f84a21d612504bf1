// b2bua_build_info.
#include "metrics/build_info.hpp"

#include <prometheus/gauge.h>

#include <string>

// Set by metrics/CMakeLists.txt on this file only, so a new commit recompiles nothing else.
#ifndef B2B_BUILD_VERSION
#error "B2B_BUILD_VERSION must be defined (metrics/CMakeLists.txt)"
#endif
#ifndef B2B_BUILD_REVISION
#error "B2B_BUILD_REVISION must be defined (metrics/CMakeLists.txt)"
#endif

namespace b2b::metrics {

std::string_view build_version() noexcept { return B2B_BUILD_VERSION; }

std::string_view build_revision() noexcept { return B2B_BUILD_REVISION; }

void add_build_info(prometheus::Registry& registry) {
    prometheus::BuildGauge()
        .Name("b2bua_build_info")
        .Help("A metric with a constant '1' value labelled by version and revision (git commit) of the running b2bua.")
        .Register(registry)
        .Add({{"version", std::string(build_version())}, {"revision", std::string(build_revision())}})
        .Set(1);
}

}  // namespace b2b::metrics
