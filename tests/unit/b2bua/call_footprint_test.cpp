// What a call costs in memory before it allocates anything: a held call lives for hours, and
// 50,000 of them at once are a normal day for a trunk (bench/README.md, "What a held call costs").
#include "b2bua/call.hpp"

#include <gtest/gtest.h>

namespace b2b::b2bua {
namespace {

// A parsed message is some 2.7 KiB before its bytes: a call holds one only while it needs it
// (the caller's INVITE until the call is confirmed, a 2xx held back for a PRACK), by pointer.
TEST(CallFootprint, ACallHoldsNoParsedMessageInline) {
    EXPECT_LT(sizeof(call), sizeof(sip::message));
    EXPECT_LE(sizeof(call), 2048u);
}

// RFC 3262 state is there for every call and used by few: a handful of words when idle.
TEST(CallFootprint, IdleReliabilityStateIsSmall) {
    EXPECT_LE(sizeof(inbound_reliability), 256u);
}

}  // namespace
}  // namespace b2b::b2bua
