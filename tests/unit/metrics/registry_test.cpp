// Tests of make_registry: a fresh, empty registry that refuses a second family of the same name.
#include "metrics/registry.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <gtest/gtest.h>

#include <stdexcept>

namespace b2b::metrics {
namespace {

TEST(make_registry, each_call_makes_a_new_empty_registry) {
    const auto a = make_registry();
    const auto b = make_registry();
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_NE(a, b);
    EXPECT_TRUE(a->Collect().empty());

    prometheus::BuildCounter().Name("b2bua_test_total").Help("test").Register(*a).Add({}).Increment();
    ASSERT_EQ(a->Collect().size(), 1u);
    EXPECT_EQ(a->Collect()[0].name, "b2bua_test_total");
    EXPECT_TRUE(b->Collect().empty());
}

TEST(make_registry, a_family_name_registered_twice_throws) {
    // Two metrics structs claiming one name is a wiring bug: it must fail at startup rather
    // than have both write into one family (prometheus-cpp's default is to merge).
    const auto registry = make_registry();
    prometheus::BuildCounter().Name("b2bua_test_total").Help("first").Register(*registry);
    EXPECT_THROW(
        prometheus::BuildCounter().Name("b2bua_test_total").Help("second").Register(*registry),
        std::invalid_argument);
    EXPECT_THROW(prometheus::BuildGauge().Name("b2bua_test_total").Help("gauge").Register(*registry),
                 std::invalid_argument);
}

}  // namespace
}  // namespace b2b::metrics
