// Zero-copy check: parsing a typical INVITE allocates once (the message's own buffer).
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>

#include "sip/message/message.hpp"

// Counting replacements of the global allocation functions for this test binary. Counting is
// off unless a test turns it on for the current thread, so gtest's own allocations are ignored.
namespace {
thread_local bool counting = false;
thread_local std::size_t allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
    if (counting) ++allocations;
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    return ::operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    if (counting) ++allocations;
    return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
    return ::operator new(n, t);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}

namespace b2b::sip {
namespace {

const std::string sdp =
    "v=0\r\no=pbx 1 2 IN IP4 192.168.1.20\r\ns=-\r\nc=IN IP4 192.168.1.20\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n";
const std::string invite =
    "INVITE sip:1000@192.168.1.10:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.168.1.20:5061;branch=z9hG4bK-31337-1-2\r\n"
    "From: \"pbx\" <sip:pbx@192.168.1.20:5061>;tag=31337PbxTag1\r\n"
    "To: <sip:1000@192.168.1.10:5060>\r\n"
    "Call-ID: 1-31337@192.168.1.20\r\n"
    "CSeq: 2 INVITE\r\n"
    "Contact: <sip:pbx@192.168.1.20:5061>\r\n"
    "Proxy-Authorization: Digest "
    "username=\"pbx\",realm=\"b2bua.example\",uri=\"sip:1000@192.168.1.10:5060\","
    "nonce=\"f84f1cec41e6cbe5aea9c8e88d359\",response=\"2a2f0fd3d4b1b7b5d1f2e3c4a5b6c7d8\","
    "algorithm=MD5\r\n"
    "Max-Forwards: 70\r\n"
    "Subject: anchor benchmark\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: " +
    std::to_string(sdp.size()) + "\r\n\r\n" + sdp;

struct count_scope {
    count_scope() {
        allocations = 0;
        counting = true;
    }
    ~count_scope() { counting = false; }
};

TEST(Allocation, TypicalInviteAllocatesOnlyItsBuffer) {
    std::size_t parse_allocs = 0;
    std::size_t check_allocs = 0;
    {
        count_scope scope;
        auto m = parse_message(invite);
        parse_allocs = allocations;
        ASSERT_TRUE(m);
        allocations = 0;
        auto v = validate_request(*m);
        auto f = frame_stream(invite);
        check_allocs = allocations;
        ASSERT_TRUE(v);
        ASSERT_TRUE(f);
    }
    EXPECT_EQ(parse_allocs, 1U);
    EXPECT_EQ(check_allocs, 0U);
}

TEST(Allocation, CounterSeesGrowth) {
    // The counter works: past the inline capacity (16 header lines), the header list grows.
    std::string big = invite;
    std::string extra;
    for (int i = 0; i < 20; ++i) extra += "X-H" + std::to_string(i) + ": v\r\n";
    big.insert(big.find("Max-Forwards"), extra);
    std::size_t n = 0;
    {
        count_scope scope;
        auto m = parse_message(big);
        n = allocations;
        ASSERT_TRUE(m);
    }
    EXPECT_GE(n, 2U);
}

}  // namespace
}  // namespace b2b::sip
