// "Never crashes" sweep: every truncation and thousands of deterministic mutations of the corpus
// through parse_message, frame_stream and make_error_response, checking invariants on success.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>

#include "sip/message/message.hpp"
#include "sip/message/writer.hpp"
#include "tests/unit/sip/message/corpus.hpp"

namespace b2b::sip {
namespace {

bool inside(std::string_view part, std::string_view whole) {
    if (part.empty()) return true;
    const std::less_equal<const char*> le;
    return le(whole.data(), part.data()) &&
           le(part.data() + part.size(), whole.data() + whole.size());
}

bool inside(const uri& u, std::string_view w) {
    return inside(u.text, w) && inside(u.scheme, w) && inside(u.opaque, w) && inside(u.user, w) &&
           inside(u.password, w) && inside(u.host, w) && inside(u.params, w) &&
           inside(u.headers, w);
}

bool inside(const name_addr& a, std::string_view w) {
    return inside(a.text, w) && inside(a.display_name, w) && inside(a.uri, w) &&
           inside(a.params, w) && inside(a.tag, w);
}

// What must hold for any message the parser accepts.
void check_message(const message& m, std::string_view input) {
    const std::string_view w = m.wire();
    ASSERT_LE(w.size(), input.size());
    EXPECT_EQ(serialize(m), w);
    EXPECT_TRUE(inside(m.body(), w));
    EXPECT_TRUE(inside(m.method_text(), w));
    EXPECT_TRUE(inside(m.request_uri(), w));
    EXPECT_TRUE(inside(m.reason(), w));
    EXPECT_TRUE(inside(m.version(), w));
    EXPECT_TRUE(inside(m.call_id(), w));
    EXPECT_TRUE(inside(m.cseq().method_text, w));
    EXPECT_TRUE(inside(m.from(), w));
    EXPECT_TRUE(inside(m.to(), w));
    for (const auto& h : m.headers()) {
        EXPECT_TRUE(inside(h.raw, w) && inside(h.name, w) && inside(h.value, w));
        EXPECT_TRUE(h.raw.ends_with("\r\n"));
    }
    for (const auto& v : m.vias()) {
        EXPECT_TRUE(inside(v.text, w) && inside(v.host, w) && inside(v.branch, w) &&
                    inside(v.params, w) && inside(v.transport, w) && inside(v.received, w));
        (void)v.param("branch");
        (void)v.has_rfc3261_branch();
    }
    for (const auto& c : m.contacts()) {
        EXPECT_TRUE(inside(c, w));
        (void)c.param("expires");
        (void)c.display_name_text();
    }
    for (const auto& r : m.routes()) {
        EXPECT_TRUE(inside(r, w));
    }
    for (const auto& r : m.record_routes()) {
        EXPECT_TRUE(inside(r, w));
    }
    if (m.content_length()) {
        EXPECT_EQ(m.body().size(), *m.content_length());
    }
    (void)m.request_uri().param("transport");
    (void)m.request_uri().host_without_brackets();
    auto v = m.is_request() ? validate_request(m) : validate_response(m);
    if (!v) {
        EXPECT_FALSE(v.error().what().empty());
    }
    if (m.is_request() && m.vias().size() > 0) {
        const std::string resp = response_writer(m, 400, "Bad Request", "t").finish();
        EXPECT_TRUE(resp.starts_with("SIP/2.0 400 Bad Request\r\n"));
    }
}

void check_error_response(std::string_view input) {
    auto r = make_error_response(input, 400, "Bad Request: reason", "tag1");
    if (!r) return;
    const std::string& s = *r;
    ASSERT_TRUE(s.starts_with("SIP/2.0 400 Bad Request: reason\r\n"));
    ASSERT_TRUE(s.ends_with("Content-Length: 0\r\n\r\n"));
    // No bare CR or LF: the response is always framed correctly.
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r') {
            ASSERT_TRUE(i + 1 < s.size() && s[i + 1] == '\n');
        }
        if (s[i] == '\n') {
            ASSERT_TRUE(i > 0 && s[i - 1] == '\r');
        }
    }
    // Exactly one empty line, at the end.
    ASSERT_EQ(s.find("\r\n\r\n"), s.size() - 4);
}

void run_all(std::string_view input) {
    for (framing f : {framing::datagram, framing::stream}) {
        auto m = parse_message(input, f);
        if (m) {
            check_message(*m, input);
        } else {
            EXPECT_NE(m.error().code, errc::ok);
            EXPECT_FALSE(m.error().what().empty());
        }
    }
    auto fr = frame_stream(input);
    if (fr && fr->size > 0) {
        ASSERT_LE(fr->leading_crlf + fr->size, input.size());
        auto m = parse_message(input.substr(fr->leading_crlf, fr->size), framing::stream);
        if (m) {
            EXPECT_EQ(m->wire().size(), fr->size);
        }
    }
    check_error_response(input);
}

TEST(Robustness, EveryTruncation) {
    for (const auto& name : test::corpus_files()) {
        SCOPED_TRACE(name);
        const std::string bytes = test::corpus_file(name);
        for (std::size_t n = 0; n <= bytes.size(); ++n) {
            // A copy of exactly n octets, so ASan sees any read past the end.
            const std::string prefix = bytes.substr(0, n);
            run_all(prefix);
            if (HasFatalFailure()) return;
        }
    }
}

TEST(Robustness, DeterministicMutations) {
    // std::mt19937's output sequence is fixed by the standard; only its raw output is used.
    std::mt19937 rng(4475);
    const auto pick = [&](std::size_t n) {
        return n == 0 ? 0 : static_cast<std::size_t>(rng() % n);
    };
    const std::string palette =
        std::string("\r\n \t:;,<>\"\\%@=/?[]*.") + std::string(1, '\0') + "0129zZ\x7f\x80\xff";
    constexpr int mutations_per_file = 2000;
    for (const auto& name : test::corpus_files()) {
        SCOPED_TRACE(name);
        const std::string original = test::corpus_file(name);
        for (int k = 0; k < mutations_per_file; ++k) {
            std::string s = original;
            const int edits = 1 + static_cast<int>(pick(4));
            for (int e = 0; e < edits && !s.empty(); ++e) {
                const std::size_t at = pick(s.size());
                switch (pick(6)) {
                    case 0:
                        s[at] = palette[pick(palette.size())];
                        break;
                    case 1:
                        s[at] = static_cast<char>(rng() & 0xFF);
                        break;
                    case 2:
                        s.erase(at, 1 + pick(8));
                        break;
                    case 3:
                        s.insert(at, 1, palette[pick(palette.size())]);
                        break;
                    case 4:
                        s.insert(at, s.substr(pick(s.size()), pick(40)));
                        break;
                    default:
                        s.resize(at);
                        break;
                }
            }
            run_all(s);
            if (HasFatalFailure()) return;
        }
    }
}

TEST(Robustness, RandomBytes) {
    std::mt19937 rng(3261);
    const std::string alphabet =
        std::string("SIP/2.0 INVITE sip:a@b;x=1\r\n:Via,Content-Length<>\"\\%") +
        std::string(1, '\0');
    for (int k = 0; k < 5000; ++k) {
        std::string s(rng() % 300, ' ');
        for (auto& c : s) c = alphabet[rng() % alphabet.size()];
        if (k % 3 == 0) s = "INVITE sip:x@y SIP/2.0\r\n" + s;
        run_all(s);
        if (HasFatalFailure()) return;
    }
}

}  // namespace
}  // namespace b2b::sip
