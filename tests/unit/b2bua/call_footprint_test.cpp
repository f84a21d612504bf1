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

// RFC 3262 state is used by few calls and by none once confirmed: a pointer, not inline.
TEST(CallFootprint, ReliabilityStateIsHeldOnlyWhenUsed) {
    EXPECT_EQ(sizeof(inbound_leg::reliability), sizeof(void*));
}

// An attempt is one dialog state: the one its INVITE was built from becomes the confirmed
// dialog at the 2xx, with no second copy kept for the forks until Timer M.
TEST(CallFootprint, AnAttemptHoldsOneDialogState) {
    EXPECT_LT(sizeof(outbound_attempt), sizeof(dialog::dialog_set) + 2 * sizeof(dialog::dialog_state));
    EXPECT_LE(sizeof(outbound_attempt), 900u);  // 1,256 when the initial state was inline too
}

// What is only for setting a call up (the failover plan, RFC 3262 state) is held by pointer,
// so a call that is up lets it go.
TEST(CallFootprint, SetupStateIsHeldByPointer) {
    EXPECT_EQ(sizeof(call::plan), sizeof(void*));
    EXPECT_LE(sizeof(call), 1200u);  // 1,528 when the plan and RFC 3262 state were inline
}

}  // namespace
}  // namespace b2b::b2bua
