// Tests of b2bua_build_info and of collectable_set, which serves the registry and the process
// metrics as one.
#include "metrics/build_info.hpp"
#include "metrics/collectables.hpp"
#include "metrics/registry.hpp"

#include <prometheus/counter.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace b2b::metrics {
namespace {

std::string label(const prometheus::ClientMetric& m, std::string_view name) {
    for (const auto& l : m.label) {
        if (l.name == name) return l.value;
    }
    return "(none)";
}

TEST(add_build_info, one_series_at_one_with_version_and_revision) {
    const auto registry = make_registry();
    add_build_info(*registry, "1.2.3", "4f54b09-dirty");
    const auto families = registry->Collect();
    ASSERT_EQ(families.size(), 1u);
    EXPECT_EQ(families[0].name, "b2bua_build_info");
    EXPECT_EQ(families[0].type, prometheus::MetricType::Gauge);
    ASSERT_EQ(families[0].metric.size(), 1u);
    const auto& m = families[0].metric[0];
    EXPECT_EQ(m.gauge.value, 1);
    EXPECT_EQ(m.label.size(), 2u);
    EXPECT_EQ(label(m, "version"), "1.2.3");
    EXPECT_EQ(label(m, "revision"), "4f54b09-dirty");
}

TEST(collectable_set, concatenates_its_parts_in_order) {
    const auto a = make_registry();
    const auto b = make_registry();
    prometheus::BuildCounter().Name("b2bua_a_total").Help("a").Register(*a).Add({}).Increment();
    prometheus::BuildCounter().Name("b2bua_b_total").Help("b").Register(*b).Add({}).Increment(2);
    const collectable_set both({a, b});
    const auto families = both.Collect();
    ASSERT_EQ(families.size(), 2u);
    EXPECT_EQ(families[0].name, "b2bua_a_total");
    EXPECT_EQ(families[1].name, "b2bua_b_total");
    EXPECT_EQ(families[1].metric.at(0).counter.value, 2);
}

TEST(with_process_metrics, serves_the_registry_then_the_process_families) {
    const auto registry = make_registry();
    add_build_info(*registry, "1.2.3", "unknown");
    const auto families = with_process_metrics(registry)->Collect();
    ASSERT_GE(families.size(), 7u);
    EXPECT_EQ(families[0].name, "b2bua_build_info");
    for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                             "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                             "process_start_time_seconds"}) {
        EXPECT_TRUE(std::any_of(families.begin(), families.end(), [&](const auto& f) { return f.name == name; }))
            << name;
    }
}

}  // namespace
}  // namespace b2b::metrics
