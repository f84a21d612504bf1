// b2bua_build_info.
#include "metrics/build_info.hpp"

#include <prometheus/gauge.h>

#include <string>

namespace b2b::metrics {

void add_build_info(prometheus::Registry& registry, std::string_view version, std::string_view revision) {
    prometheus::BuildGauge()
        .Name("b2bua_build_info")
        .Help("A metric with a constant '1' value labelled by version and revision (git commit) of the running b2bua.")
        .Register(registry)
        .Add({{"version", std::string(version)}, {"revision", std::string(revision)}})
        .Set(1);
}

}  // namespace b2b::metrics
