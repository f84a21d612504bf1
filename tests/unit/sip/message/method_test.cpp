// Method names: case-sensitive lookup and canonical text.
#include "sip/message/method.hpp"

#include <gtest/gtest.h>

namespace b2b::sip {
namespace {

TEST(Method, RoundTrip) {
    for (int i = 1; i <= static_cast<int>(method::publish); ++i) {
        const auto m = static_cast<method>(i);
        ASSERT_FALSE(to_string(m).empty()) << i;
        EXPECT_EQ(method_from_string(to_string(m)), m) << to_string(m);
    }
    EXPECT_EQ(to_string(method::unknown), "");
    EXPECT_EQ(to_string(method::register_), "REGISTER");
}

TEST(Method, CaseSensitiveAndUnknown) {
    EXPECT_EQ(method_from_string("invite"), method::unknown);
    EXPECT_EQ(method_from_string("Invite"), method::unknown);
    EXPECT_EQ(method_from_string("RE%47IST%45R"), method::unknown);
    EXPECT_EQ(method_from_string("NEWMETHOD"), method::unknown);
    EXPECT_EQ(method_from_string(""), method::unknown);
    EXPECT_EQ(method_from_string("INVITEX"), method::unknown);
    EXPECT_EQ(method_from_string("INVIT"), method::unknown);
    EXPECT_EQ(method_from_string("XNVITE"), method::unknown);
}

}  // namespace
}  // namespace b2b::sip
