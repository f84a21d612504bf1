// The one test of an emergency number, used by the pre-parse screen and the call stages alike.
#include "security/emergency.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace b2b::security {
namespace {

const std::vector<std::string> numbers{"112", "911"};

TEST(dials_emergency, matches_a_number_exactly) {
    EXPECT_TRUE(dials_emergency("112", numbers));
    EXPECT_TRUE(dials_emergency("911", numbers));
    EXPECT_FALSE(dials_emergency("1120", numbers));
    EXPECT_FALSE(dials_emergency("11", numbers));
    EXPECT_FALSE(dials_emergency("", numbers));
    EXPECT_FALSE(dials_emergency("112", {}));
}

TEST(dials_emergency, reads_the_user_part_as_written_with_its_escapes) {
    // RFC 3261 §19.1.2: an escaped digit is the same digit; the screen (before parsing) and the
    // call stages (after) must agree on it, or a ban would refuse what admission lets through.
    EXPECT_TRUE(dials_emergency("%31%31%32", numbers));
    EXPECT_TRUE(dials_emergency("11%32", numbers));
    EXPECT_FALSE(dials_emergency("%31%31%320", numbers));
    EXPECT_FALSE(dials_emergency("%", numbers));
}

}  // namespace
}  // namespace b2b::security
