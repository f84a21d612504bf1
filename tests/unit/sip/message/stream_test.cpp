// Stream framing (RFC 3261 §18.3): frame_stream over TCP-like buffers, fed whole or byte by byte.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sip/message/message.hpp"

namespace b2b::sip {
namespace {

std::string msg(std::string_view call_id, std::string_view body, bool compact_length = false) {
    std::string s =
        "MESSAGE sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n"
        "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: ";
    s += call_id;
    s += "\r\nCSeq: 1 MESSAGE\r\n";
    s += compact_length ? "l : " : "Content-Length: ";
    s += std::to_string(body.size());
    s += "\r\n\r\n";
    s += body;
    return s;
}

// Cuts complete messages off the front of `buffer` the way a TCP transport would.
std::vector<std::string> drain(std::string& buffer, std::size_t max_size = 65535) {
    std::vector<std::string> out;
    for (;;) {
        auto f = frame_stream(buffer, max_size);
        EXPECT_TRUE(f) << f.error().what();
        if (!f || f->size == 0) {
            if (f) buffer.erase(0, f->leading_crlf);  // keep-alives can go
            return out;
        }
        out.emplace_back(buffer.substr(f->leading_crlf, f->size));
        buffer.erase(0, f->leading_crlf + f->size);
    }
}

TEST(FrameStream, SeveralMessagesInOneBuffer) {
    const std::string a = msg("a", "hello");
    const std::string b = msg("b", std::string("bin\0ary\r\n\r\n", 11));
    const std::string c = msg("c", "", true);
    std::string buffer = a + b + "\r\n\r\n" + c;
    const auto got = drain(buffer);
    ASSERT_EQ(got.size(), 3U);
    EXPECT_EQ(got[0], a);
    EXPECT_EQ(got[1], b);
    EXPECT_EQ(got[2], c);
    EXPECT_TRUE(buffer.empty());
    for (const auto& m : got) {
        auto p = parse_message(m, framing::stream);
        ASSERT_TRUE(p) << p.error().what();
        EXPECT_TRUE(validate_request(*p));
    }
    EXPECT_EQ(parse_message(got[1], framing::stream)->body().size(), 11U);
}

TEST(FrameStream, ByteByByte) {
    const std::string a = msg("a", "first body");
    const std::string b = msg("b", "second");
    const std::string stream = "\r\n" + a + "\r\n\r\n" + b;
    std::string buffer;
    std::vector<std::string> got;
    for (char c : stream) {
        buffer += c;
        for (auto& m : drain(buffer)) got.push_back(std::move(m));
    }
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(got[0], a);
    EXPECT_EQ(got[1], b);
    EXPECT_TRUE(buffer.empty());
}

// A transport keeps `searched` from one read to the next: the header is searched once, the
// messages cut are the same as without it, and the offset follows the buffer as CRLFs and
// messages are cut off its front.
TEST(FrameStream, ResumesTheHeaderSearchWhereItStopped) {
    const std::string a = msg("a", "first body");
    const std::string b = msg("b", "second");
    const std::string stream = "\r\n\r\n" + a + "\r\n" + b;
    for (std::size_t chunk : {1U, 2U, 3U, 7U, 64U}) {
        std::string buffer;
        std::size_t searched = 0;
        std::vector<std::string> got;
        for (std::size_t at = 0; at < stream.size(); at += chunk) {
            buffer += stream.substr(at, chunk);
            for (;;) {
                auto f = frame_stream(buffer, 65535, &searched);
                ASSERT_TRUE(f) << f.error().what();
                buffer.erase(0, f->leading_crlf);
                searched = searched > f->leading_crlf ? searched - f->leading_crlf : 0;
                if (f->size == 0) {
                    // Nothing found yet: the whole header so far was searched, and never again.
                    if (buffer.find("\r\n\r\n") == std::string::npos) {
                        EXPECT_EQ(searched, buffer.size());
                    }
                    break;
                }
                got.push_back(buffer.substr(0, f->size));
                buffer.erase(0, f->size);
                searched = 0;
            }
        }
        ASSERT_EQ(got.size(), 2U) << "chunk " << chunk;
        EXPECT_EQ(got[0], a);
        EXPECT_EQ(got[1], b);
    }
}

TEST(FrameStream, AResumedSearchStillFindsAnEndSplitAcrossReads) {
    const std::string a = msg("a", "");
    const std::size_t end = a.find("\r\n\r\n");
    for (std::size_t cut = end; cut <= end + 4; ++cut) {
        std::size_t searched = 0;
        auto first = frame_stream(std::string_view(a).substr(0, cut), 65535, &searched);
        ASSERT_TRUE(first);
        auto second = frame_stream(a, 65535, &searched);
        ASSERT_TRUE(second);
        EXPECT_EQ(second->size, a.size()) << "cut at " << cut;
    }
}

TEST(FrameStream, NeedMoreUntilComplete) {
    const std::string a = msg("a", "0123456789");
    for (std::size_t n = 0; n < a.size(); ++n) {
        auto f = frame_stream(std::string_view(a).substr(0, n));
        ASSERT_TRUE(f) << n;
        EXPECT_EQ(f->size, 0U) << n;
    }
    auto f = frame_stream(a);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->size, a.size());
    EXPECT_EQ(f->leading_crlf, 0U);
}

TEST(FrameStream, KeepAlives) {
    auto f = frame_stream("\r\n\r\n");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->leading_crlf, 4U);
    EXPECT_EQ(f->size, 0U);
    auto g = frame_stream("\r\n");
    ASSERT_TRUE(g);
    EXPECT_EQ(g->leading_crlf, 2U);
    auto e = frame_stream("");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->leading_crlf, 0U);
    EXPECT_EQ(e->size, 0U);
}

TEST(FrameStream, Errors) {
    const std::string no_length =
        "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nCall-ID: x\r\n\r\n";
    auto f = frame_stream(no_length);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, errc::content_length_required);

    auto neg = frame_stream("OPTIONS sip:b@h SIP/2.0\r\nContent-Length: -5\r\n\r\n");
    ASSERT_FALSE(neg);
    EXPECT_EQ(neg.error().code, errc::bad_content_length);

    auto conflict = frame_stream("OPTIONS sip:b@h SIP/2.0\r\nContent-Length: 5\r\nl: 6\r\n\r\n");
    ASSERT_FALSE(conflict);
    EXPECT_EQ(conflict.error().code, errc::bad_content_length);

    auto same = frame_stream("OPTIONS sip:b@h SIP/2.0\r\nContent-Length: 1\r\nl: 01\r\n\r\nx");
    ASSERT_TRUE(same);
    EXPECT_GT(same->size, 0U);

    // Folded Content-Length value.
    auto folded = frame_stream("OPTIONS sip:b@h SIP/2.0\r\nContent-Length:\r\n 3\r\n\r\nabc");
    ASSERT_TRUE(folded) << folded.error().what();
    EXPECT_GT(folded->size, 0U);

    // A header section that never ends within max_size.
    std::string huge = "OPTIONS sip:b@h SIP/2.0\r\n";
    while (huge.size() < 300) huge += "X-Pad: aaaaaaaaaaaaaaaaaaaa\r\n";
    auto big = frame_stream(huge, 256);
    ASSERT_FALSE(big);
    EXPECT_EQ(big.error().code, errc::message_too_large);
    auto fine = frame_stream(huge, 4096);
    ASSERT_TRUE(fine);
    EXPECT_EQ(fine->size, 0U);

    // A body that would exceed max_size is refused before it is buffered.
    auto body = frame_stream("OPTIONS sip:b@h SIP/2.0\r\nContent-Length: 100000\r\n\r\n", 65535);
    ASSERT_FALSE(body);
    EXPECT_EQ(body.error().code, errc::message_too_large);
}

TEST(FrameStream, ContentLengthInStartLineIsNotAHeader) {
    // Only header lines count: a Request-URI that looks like "Content-Length:" is not one.
    const std::string s = "OPTIONS sip:Content-Length:9@h SIP/2.0\r\nl: 0\r\n\r\n";
    auto f = frame_stream(s);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->size, s.size());
}

}  // namespace
}  // namespace b2b::sip
