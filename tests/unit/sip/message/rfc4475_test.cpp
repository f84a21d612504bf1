// RFC 4475 torture corpus: every file against its INDEX.md verdict, plus per-file assertions.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>

#include "sip/message/message.hpp"
#include "sip/message/text.hpp"
#include "sip/message/writer.hpp"
#include "tests/unit/sip/message/corpus.hpp"

namespace b2b::sip {
namespace {

using test::corpus_file;
using test::verdict;

std::string_view errc_name(errc e) {
    switch (e) {
        case errc::ok:
            return "ok";
        case errc::empty_message:
            return "empty_message";
        case errc::headers_not_terminated:
            return "headers_not_terminated";
        case errc::bad_start_line:
            return "bad_start_line";
        case errc::bad_method:
            return "bad_method";
        case errc::bad_request_uri:
            return "bad_request_uri";
        case errc::bad_version:
            return "bad_version";
        case errc::version_not_supported:
            return "version_not_supported";
        case errc::bad_status_code:
            return "bad_status_code";
        case errc::bad_reason_phrase:
            return "bad_reason_phrase";
        case errc::bad_header_line:
            return "bad_header_line";
        case errc::bad_header_name:
            return "bad_header_name";
        case errc::bad_header_value:
            return "bad_header_value";
        case errc::duplicate_header:
            return "duplicate_header";
        case errc::missing_header:
            return "missing_header";
        case errc::bad_content_length:
            return "bad_content_length";
        case errc::content_length_exceeds_body:
            return "content_length_exceeds_body";
        case errc::content_length_required:
            return "content_length_required";
        case errc::message_too_large:
            return "message_too_large";
        case errc::cseq_method_mismatch:
            return "cseq_method_mismatch";
        case errc::bad_max_forwards:
            return "bad_max_forwards";
        case errc::bad_cseq:
            return "bad_cseq";
        case errc::bad_via:
            return "bad_via";
        case errc::bad_uri:
            return "bad_uri";
    }
    return "?";
}

struct outcome {
    errc parse = errc::ok;     // ok when parse_message succeeded
    errc validate = errc::ok;  // ok when validation passed (or parse failed)
    std::string reason;        // what() of the failure, empty when accepted
};

outcome run(std::string_view bytes) {
    outcome o;
    auto m = parse_message(bytes);
    if (!m) {
        o.parse = m.error().code;
        o.reason = m.error().what();
        return o;
    }
    auto v = m->is_request() ? validate_request(*m) : validate_response(*m);
    if (!v) {
        o.validate = v.error().code;
        o.reason = v.error().what();
    }
    return o;
}

// Every .dat file has a row, every row a file, every verdict is one of the legend's, and the
// byte counts agree (the files are bit-exact: a CRLF conversion would show here).
TEST(Rfc4475, IndexCoversEveryFile) {
    const auto rows = test::read_index();
    const auto files = test::corpus_files();
    ASSERT_EQ(files.size(), 50U);
    for (const auto& f : files) {
        auto it = rows.find(f);
        ASSERT_NE(it, rows.end()) << f << " has no row in INDEX.md";
        EXPECT_NE(it->second.v, verdict::unrecognized)
            << f << ": verdict " << it->second.verdict_text;
        EXPECT_EQ(corpus_file(f).size(), it->second.bytes) << f;
    }
    for (const auto& [name, row] : rows) {
        EXPECT_TRUE(std::find(files.begin(), files.end(), name) != files.end())
            << name << " listed but missing";
    }
}

TEST(Rfc4475, EveryFileMeetsItsVerdict) {
    const auto rows = test::read_index();
    const auto files = test::corpus_files();
    ASSERT_FALSE(files.empty());
    std::ostringstream table;
    for (const auto& f : files) {
        SCOPED_TRACE(f);
        auto it = rows.find(f);
        ASSERT_NE(it, rows.end()) << "no INDEX.md row";
        const std::string bytes = corpus_file(f);
        const outcome o = run(bytes);
        switch (it->second.v) {
            case verdict::accept:
            case verdict::app_layer:
                EXPECT_EQ(o.parse, errc::ok) << o.reason;
                EXPECT_EQ(o.validate, errc::ok) << o.reason;
                break;
            case verdict::reject:
                EXPECT_TRUE(o.parse != errc::ok || o.validate != errc::ok) << "accepted";
                EXPECT_FALSE(o.reason.empty());
                break;
            case verdict::semantic_reject:
                EXPECT_EQ(o.parse, errc::ok) << o.reason;
                EXPECT_NE(o.validate, errc::ok);
                EXPECT_FALSE(o.reason.empty());
                break;
            case verdict::unreferenced:
                break;  // any result; the sweep test checks it does not crash
            case verdict::unrecognized:
                ADD_FAILURE() << "unrecognized verdict " << it->second.verdict_text;
                break;
        }
        table << f << " | " << it->second.verdict_text << " | "
              << (o.parse != errc::ok ? std::string("parse ") + std::string(errc_name(o.parse))
                  : o.validate != errc::ok
                      ? std::string("validate ") + std::string(errc_name(o.validate))
                      : std::string("accepted"))
              << " | " << o.reason << "\n";
    }
    std::cout << table.str();
}

// The precise error each REJECT / semantic-reject file gets, so that a file rejected for
// the wrong reason is caught.
TEST(Rfc4475, RejectReasons) {
    struct expect {
        const char* file;
        errc parse;
        errc validate;
        const char* detail_part;
    };
    const expect table[] = {
        {"badinv01.dat", errc::bad_via, errc::ok, "empty parameter"},
        {"clerr.dat", errc::content_length_exceeds_body, errc::ok, "9999"},
        {"ncl.dat", errc::bad_content_length, errc::ok, "-999"},
        {"scalar02.dat", errc::bad_cseq, errc::ok, "36893488147419103232"},
        {"scalarlg.dat", errc::bad_cseq, errc::ok, "9292394834772304023312"},
        {"quotbal.dat", errc::bad_header_value, errc::ok, "To: unterminated"},
        {"ltgtruri.dat", errc::bad_request_uri, errc::ok, "<>"},
        {"lwsruri.dat", errc::bad_request_uri, errc::ok, "whitespace"},
        {"lwsstart.dat", errc::bad_start_line, errc::ok, "SP"},
        {"trws.dat", errc::bad_start_line, errc::ok, "whitespace"},
        {"escruri.dat", errc::bad_request_uri, errc::ok, "headers not allowed"},
        {"baddate.dat", errc::ok, errc::bad_header_value, "Date"},
        {"regbadct.dat", errc::bad_header_value, errc::ok, "Contact: '?'"},
        {"badaspec.dat", errc::bad_header_value, errc::ok, "To: whitespace inside"},
        {"baddn.dat", errc::headers_not_terminated, errc::ok, "empty line"},
        {"badvers.dat", errc::version_not_supported, errc::ok, "SIP/7.0"},
        {"mismatch01.dat", errc::ok, errc::cseq_method_mismatch, "INVITE"},
        {"mismatch02.dat", errc::ok, errc::cseq_method_mismatch, "NEWMETHOD"},
        {"bigcode.dat", errc::bad_status_code, errc::ok, "4294967301"},
        {"badbranch.dat", errc::ok, errc::bad_via, "z9hG4bK"},
        {"insuf.dat", errc::ok, errc::missing_header, "Call-ID"},
        {"multi01.dat", errc::ok, errc::duplicate_header, "Call-ID, CSeq, From, To, Max-Forwards"},
        {"mcl01.dat", errc::ok, errc::bad_content_length, "conflicting"},
    };
    for (const auto& e : table) {
        SCOPED_TRACE(e.file);
        const std::string bytes = corpus_file(e.file);
        auto m = parse_message(bytes);
        if (e.parse != errc::ok) {
            ASSERT_FALSE(m);
            EXPECT_EQ(m.error().code, e.parse) << m.error().what();
            EXPECT_NE(m.error().detail.find(e.detail_part), std::string::npos) << m.error().detail;
            continue;
        }
        ASSERT_TRUE(m) << m.error().what();
        auto v = m->is_request() ? validate_request(*m) : validate_response(*m);
        ASSERT_FALSE(v);
        EXPECT_EQ(v.error().code, e.validate) << v.error().what();
        EXPECT_NE(v.error().detail.find(e.detail_part), std::string::npos) << v.error().detail;
    }
}

// baddn.dat lacks the empty line that ends its header section (see INDEX.md); with the line
// restored, the non-token display names are what gets it refused.
TEST(Rfc4475, BaddnWithItsEmptyLine) {
    auto m = parse_message(corpus_file("baddn.dat") + "\r\n");
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::bad_header_value);
    EXPECT_EQ(m.error().detail, "From: display name with non-token characters must be quoted");
}

TEST(Rfc4475, InsufNamesEveryMissingHeader) {
    auto m = parse_message(corpus_file("insuf.dat"));
    ASSERT_TRUE(m);
    auto v = validate_request(*m);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().detail, "To, From, Call-ID, Max-Forwards");
}

TEST(Rfc4475, ScalarReasonPhrase) {
    auto m = parse_message(corpus_file("scalar02.dat"));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().what(), "Bad CSeq: sequence number 36893488147419103232 exceeds 2^31-1");
}

TEST(Rfc4475, Wsinv) {
    const std::string bytes = corpus_file("wsinv.dat");
    auto r = parse_message(bytes);
    ASSERT_TRUE(r) << r.error().what();
    const message& m = *r;
    EXPECT_EQ(m.method(), method::invite);
    EXPECT_EQ(m.request_uri().user, "vivekg");
    EXPECT_TRUE(m.request_uri().param("unknownparam").has_value());
    EXPECT_EQ(m.from().tag, "98asjd8");
    EXPECT_EQ(m.from().display_name, R"("J Rosenberg \\\"")");
    EXPECT_EQ(m.from().display_name_text(), R"(J Rosenberg \")");
    EXPECT_EQ(m.from().uri.text, "sip:jdrosen@example.com");
    EXPECT_EQ(m.to().tag, "1918181833n");
    EXPECT_FALSE(m.to().bracketed);
    EXPECT_EQ(m.to().uri.text, "sip:vivekg@chair-dnrc.example.com");
    EXPECT_EQ(m.cseq().seq, 9U);
    EXPECT_EQ(m.cseq().method, method::invite);
    EXPECT_EQ(m.max_forwards(), 68U);
    EXPECT_EQ(m.call_id(), "wsinv.ndaksdj@192.0.2.1");
    ASSERT_EQ(m.vias().size(), 3U);
    EXPECT_EQ(m.vias()[0].transport, "UDP");
    EXPECT_EQ(m.vias()[0].protocol_name, "SIP");
    EXPECT_EQ(m.vias()[0].protocol_version, "2.0");
    EXPECT_EQ(m.vias()[0].host, "192.0.2.2");
    EXPECT_EQ(m.vias()[0].host_type, host_kind::ipv4);
    EXPECT_EQ(m.vias()[0].branch, "390skdjuw");
    EXPECT_FALSE(m.vias()[0].has_rfc3261_branch());
    EXPECT_EQ(m.vias()[1].transport, "TCP");
    EXPECT_EQ(m.vias()[1].host, "spindle.example.com");
    EXPECT_EQ(m.vias()[1].branch, "z9hG4bK9ikj8");
    // The second value of the second Via line, whose branch value is folded onto a new line.
    EXPECT_EQ(m.vias()[2].transport, "UDP");
    EXPECT_EQ(m.vias()[2].host, "192.168.255.111");
    EXPECT_EQ(m.vias()[2].branch, "z9hG4bK30239");
    EXPECT_EQ(m.vias()[2].param("branch"), "z9hG4bK30239");
    ASSERT_EQ(m.contacts().size(), 1U);
    EXPECT_EQ(m.contacts()[0].display_name_text(), "Quoted string \"\"");
    EXPECT_EQ(m.contacts()[0].param("q"), "0.33");
    EXPECT_EQ(m.contacts()[0].param("newparam"), "newvalue");
    EXPECT_EQ(m.contacts()[0].param("secondparam"), "");
    ASSERT_EQ(m.routes().size(), 1U);
    EXPECT_EQ(m.routes()[0].uri.param("lr"), "");
    EXPECT_EQ(m.routes()[0].uri.param("unknownwith"), "value");
    const auto* unusual = m.find("UnknownHeaderWithUnusualValue");
    ASSERT_NE(unusual, nullptr);
    EXPECT_EQ(unusual->id, header_id::other);
    EXPECT_EQ(unusual->value, ";;,,;;,;");
    const auto* fangled = m.find("newfangledheader");
    ASSERT_NE(fangled, nullptr);
    EXPECT_EQ(fangled->value, "newfangled value\r\n continued newfangled value");
    const auto* subject = m.find(header_id::subject);
    ASSERT_NE(subject, nullptr);
    EXPECT_EQ(subject->name, "s");
    EXPECT_EQ(subject->value, "");
    EXPECT_EQ(m.find(header_id::to)->name, "TO");
    EXPECT_EQ(m.content_length(), 150U);
    EXPECT_EQ(m.body().size(), 150U);
    EXPECT_TRUE(m.body().starts_with("v=0\r\n"));
    EXPECT_TRUE(validate_request(m));
}

TEST(Rfc4475, Intmeth) {
    auto r = parse_message(corpus_file("intmeth.dat"));
    ASSERT_TRUE(r) << r.error().what();
    const message& m = *r;
    EXPECT_EQ(m.method(), method::unknown);
    EXPECT_EQ(m.method_text(), "!interesting-Method0123456789_*+`.%indeed'~");
    EXPECT_EQ(m.request_uri().user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    EXPECT_EQ(m.request_uri().password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    EXPECT_EQ(m.request_uri().host, "example.com");
    EXPECT_EQ(m.vias()[0].branch, "z9hG4bK-.!%66*_+`'~");
    const std::string to_name = m.to().display_name_text();
    EXPECT_EQ(to_name, std::string("BEL:\x07 NUL:\0 DEL:\x7F", 17));
    EXPECT_EQ(m.from().display_name, "token1~` token2'+_ token3*%!.-");
    EXPECT_EQ(m.from().tag, "_token~1'+`*%!-.");
    EXPECT_TRUE(m.from().param("fromParam''~+*_!.-%").has_value());
    EXPECT_EQ(m.call_id(), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    EXPECT_EQ(m.cseq().method_text, m.method_text());
    EXPECT_EQ(m.max_forwards(), 255U);
    EXPECT_NE(m.find("extensionHeader-!.%*+_`'~"), nullptr);
}

TEST(Rfc4475, Escapes) {
    auto esc01 = parse_message(corpus_file("esc01.dat"));
    ASSERT_TRUE(esc01);
    EXPECT_EQ(esc01->request_uri().user, "sips%3Auser%40example.com");
    EXPECT_EQ(unescape(esc01->request_uri().user), "sips:user@example.com");
    EXPECT_EQ(unescape(esc01->to().uri.user), "user");
    EXPECT_EQ(unescape(esc01->from().uri.user), "I have spaces");
    ASSERT_EQ(esc01->contacts().size(), 1U);
    EXPECT_EQ(esc01->contacts()[0].uri.param("n%61me"), "v%61lue%25%34%31");

    auto escnull = parse_message(corpus_file("escnull.dat"));
    ASSERT_TRUE(escnull);
    EXPECT_EQ(unescape(escnull->to().uri.user), std::string("null-\0-null", 11));
    ASSERT_EQ(escnull->contacts().size(), 2U);
    EXPECT_EQ(unescape(escnull->contacts()[0].uri.user), std::string(1, '\0'));
    EXPECT_EQ(unescape(escnull->contacts()[1].uri.user), std::string(2, '\0'));
    EXPECT_FALSE(equivalent(escnull->contacts()[0].uri, escnull->contacts()[1].uri));
    EXPECT_EQ(escnull->content_length(), 0U);

    auto esc02 = parse_message(corpus_file("esc02.dat"));
    ASSERT_TRUE(esc02);
    EXPECT_EQ(esc02->method(), method::unknown);
    EXPECT_EQ(esc02->method_text(), "RE%47IST%45R");
    EXPECT_EQ(esc02->cseq().method, method::unknown);
    ASSERT_EQ(esc02->contacts().size(), 2U);
    EXPECT_EQ(esc02->contacts()[0].uri.host, "host1.example.com");
    EXPECT_EQ(esc02->contacts()[1].uri.host, "host3.example.com");
    EXPECT_EQ(esc02->count(header_id::contact), 2U);
    const auto* fake = esc02->find("C%6Fntact");
    ASSERT_NE(fake, nullptr);
    EXPECT_EQ(fake->id, header_id::other);
    EXPECT_EQ(esc02->to().display_name_text(), "%Z%45");
    EXPECT_EQ(esc02->vias()[0].branch, "z9hG4bK209%fzsnel234");
}

TEST(Rfc4475, Semiuri) {
    auto m = parse_message(corpus_file("semiuri.dat"));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->request_uri().user, "user;par=u%40example.net");
    EXPECT_EQ(unescape(m->request_uri().user), "user;par=u@example.net");
    EXPECT_EQ(m->request_uri().host, "example.com");
    EXPECT_TRUE(m->request_uri().params.empty());
    const auto* accept = m->find(header_id::accept);
    ASSERT_NE(accept, nullptr);
    EXPECT_TRUE(accept->value.ends_with("message/sipfrag"));
    EXPECT_NE(accept->raw.find("\r\n        multipart/mixed"), std::string_view::npos);
}

TEST(Rfc4475, ContactParameterPlacement) {
    auto c1 = parse_message(corpus_file("cparam01.dat"));
    ASSERT_TRUE(c1);
    ASSERT_EQ(c1->contacts().size(), 1U);
    const name_addr& a = c1->contacts()[0];
    EXPECT_FALSE(a.bracketed);
    EXPECT_EQ(a.uri.text, "sip:+19725552222@gw1.example.net");
    EXPECT_TRUE(a.uri.params.empty());
    EXPECT_EQ(a.params, ";unknownparam");
    EXPECT_EQ(a.param("unknownparam"), "");

    auto c2 = parse_message(corpus_file("cparam02.dat"));
    ASSERT_TRUE(c2);
    ASSERT_EQ(c2->contacts().size(), 1U);
    const name_addr& b = c2->contacts()[0];
    EXPECT_TRUE(b.bracketed);
    EXPECT_EQ(b.uri.params, ";unknownparam");
    EXPECT_EQ(b.uri.param("unknownparam"), "");
    EXPECT_TRUE(b.params.empty());
    EXPECT_FALSE(b.param("unknownparam").has_value());
}

TEST(Rfc4475, Regescrt) {
    auto m = parse_message(corpus_file("regescrt.dat"));
    ASSERT_TRUE(m) << m.error().what();
    ASSERT_EQ(m->contacts().size(), 1U);
    EXPECT_EQ(m->find(header_id::contact)->name, "M");
    EXPECT_EQ(m->contacts()[0].uri.headers, "Route=%3Csip:sip.example.com%3E");
    EXPECT_EQ(unescape(m->contacts()[0].uri.headers), "Route=<sip:sip.example.com>");
    EXPECT_EQ(m->content_length(), 0U);
    EXPECT_EQ(m->find(header_id::content_length)->name, "L");
}

TEST(Rfc4475, Transports) {
    auto m = parse_message(corpus_file("transports.dat"));
    ASSERT_TRUE(m);
    const char* expected[] = {"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"};
    ASSERT_EQ(m->vias().size(), 5U);
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(m->vias()[i].transport, expected[i]);
        EXPECT_EQ(m->vias()[i].host, "t" + std::to_string(i + 1) + ".example.com");
        EXPECT_TRUE(m->vias()[i].has_rfc3261_branch());
    }
    EXPECT_EQ(m->call_id(), "transports.kijh4akdnaqjkwendsasfdj");
}

TEST(Rfc4475, Longreq) {
    auto m = parse_message(corpus_file("longreq.dat"));
    ASSERT_TRUE(m);
    ASSERT_EQ(m->vias().size(), 34U);
    EXPECT_EQ(m->vias().front().host, "sip33.example.com");
    EXPECT_EQ(m->vias().back().host, "host.example.com");
    EXPECT_EQ(m->vias().back().received, "192.0.2.5");
    EXPECT_EQ(m->to().uri.port, 6000);
    std::string valueless = "very";
    for (int i = 0; i < 25; ++i) valueless += "long";
    valueless += "ParameterNameWithNoValue";
    EXPECT_EQ(m->to().uri.param(valueless), "");
    EXPECT_EQ(m->to().uri.param("unknownparam1").value_or("").size(), 89U);
    EXPECT_EQ(m->body().size(), 150U);
}

TEST(Rfc4475, DatagramFraming) {
    const std::string dbl = corpus_file("dblreq.dat");
    auto m = parse_message(dbl);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->method(), method::register_);
    EXPECT_EQ(m->body(), "");
    EXPECT_EQ(m->wire().size(), 300U);
    EXPECT_EQ(m->wire(), std::string_view(dbl).substr(0, 300));

    const std::string mp = corpus_file("mpart01.dat");
    auto m2 = parse_message(mp);
    ASSERT_TRUE(m2);
    EXPECT_EQ(m2->content_length(), 553U);
    EXPECT_EQ(m2->body().size(), 553U);
    EXPECT_EQ(std::count(m2->body().begin(), m2->body().end(), '\0'), 2);
    EXPECT_TRUE(m2->body().ends_with("--7a9cbec02ceef655--\r\n"));

    auto inv = parse_message(corpus_file("inv2543.dat"));
    ASSERT_TRUE(inv);
    EXPECT_FALSE(inv->content_length().has_value());
    EXPECT_FALSE(inv->max_forwards().has_value());
    EXPECT_TRUE(inv->from().tag.empty());
    EXPECT_TRUE(inv->body().ends_with("m=audio 49217 RTP/AVP 0\r\n"));
    EXPECT_TRUE(inv->body().starts_with("v=0\r\n"));
    EXPECT_TRUE(validate_request(*inv));
    ASSERT_EQ(inv->record_routes().size(), 1U);
    EXPECT_EQ(inv->record_routes()[0].uri.param("maddr"), "ss1.example.com");
}

TEST(Rfc4475, StreamFraming) {
    // Over a stream, clerr is not an error: more bytes may still come (RFC 4475 §3.1.2.2).
    const std::string clerr = corpus_file("clerr.dat");
    auto f = frame_stream(clerr);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->size, 0U);
    // ncl and mcl01 cannot be framed at all.
    auto ncl = frame_stream(corpus_file("ncl.dat"));
    ASSERT_FALSE(ncl);
    EXPECT_EQ(ncl.error().code, errc::bad_content_length);
    auto mcl = frame_stream(corpus_file("mcl01.dat"));
    ASSERT_FALSE(mcl);
    EXPECT_EQ(mcl.error().code, errc::bad_content_length);
    auto mcl_parse = parse_message(corpus_file("mcl01.dat"), framing::stream);
    ASSERT_FALSE(mcl_parse);
    EXPECT_EQ(mcl_parse.error().code, errc::bad_content_length);
    // inv2543 has no Content-Length: fine in a datagram, not on a stream.
    auto inv = frame_stream(corpus_file("inv2543.dat"));
    ASSERT_FALSE(inv);
    EXPECT_EQ(inv.error().code, errc::content_length_required);
    // dblreq over a stream: two messages back to back; the second one is complete too.
    const std::string dbl = corpus_file("dblreq.dat");
    auto first = frame_stream(dbl);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->size, 300U);
    auto second = frame_stream(std::string_view(dbl).substr(300));
    ASSERT_TRUE(second);
    EXPECT_EQ(second->leading_crlf, 2U);
    // Its Content-Length (150) is 5 octets short of what follows: those stay in the buffer.
    ASSERT_EQ(second->size, dbl.size() - 302 - 5);
    auto inner = parse_message(std::string_view(dbl).substr(302, second->size), framing::stream);
    ASSERT_TRUE(inner) << inner.error().what();
    EXPECT_EQ(inner->method(), method::invite);
    EXPECT_EQ(inner->body().size(), 150U);
}

TEST(Rfc4475, VersionAndSchemes) {
    auto badvers = parse_message(corpus_file("badvers.dat"));
    ASSERT_FALSE(badvers);
    EXPECT_EQ(badvers.error().code, errc::version_not_supported);
    EXPECT_EQ(status_for(badvers.error().code), 505);

    auto unkscm = parse_message(corpus_file("unkscm.dat"));
    ASSERT_TRUE(unkscm);
    EXPECT_FALSE(unkscm->request_uri().is_sip_or_sips());
    EXPECT_EQ(unkscm->request_uri().scheme, "nobodyKnowsThisScheme");
    EXPECT_EQ(unkscm->request_uri().opaque, "totallyopaquecontent");

    auto novelsc = parse_message(corpus_file("novelsc.dat"));
    ASSERT_TRUE(novelsc);
    EXPECT_EQ(novelsc->request_uri().scheme, "soap.beep");
    EXPECT_EQ(novelsc->request_uri().opaque, "//192.0.2.103:3002");

    auto unksm2 = parse_message(corpus_file("unksm2.dat"));
    ASSERT_TRUE(unksm2);
    EXPECT_EQ(unksm2->to().uri.scheme, "isbn");
    EXPECT_EQ(unksm2->from().uri.scheme, "http");
    EXPECT_EQ(unksm2->from().tag, "3234233");
    ASSERT_EQ(unksm2->contacts().size(), 1U);
    EXPECT_EQ(unksm2->contacts()[0].uri.scheme, "name");
}

TEST(Rfc4475, Responses) {
    auto unreason = parse_message(corpus_file("unreason.dat"));
    ASSERT_TRUE(unreason);
    EXPECT_EQ(unreason->status(), 200);
    EXPECT_TRUE(unreason->reason().starts_with("= 2**3 * 5**2 "));
    EXPECT_EQ(unreason->body().size(), 154U);

    auto noreason = parse_message(corpus_file("noreason.dat"));
    ASSERT_TRUE(noreason);
    EXPECT_EQ(noreason->status(), 100);
    EXPECT_EQ(noreason->reason(), "");

    auto bcast = parse_message(corpus_file("bcast.dat"));
    ASSERT_TRUE(bcast);
    ASSERT_EQ(bcast->vias().size(), 2U);
    EXPECT_EQ(bcast->vias()[1].host, "255.255.255.255");
}

TEST(Rfc4475, MiscAccepted) {
    auto lwsdisp = parse_message(corpus_file("lwsdisp.dat"));
    ASSERT_TRUE(lwsdisp);
    EXPECT_EQ(lwsdisp->from().display_name, "caller");
    EXPECT_EQ(lwsdisp->from().uri.user, "caller");

    auto zeromf = parse_message(corpus_file("zeromf.dat"));
    ASSERT_TRUE(zeromf);
    EXPECT_EQ(zeromf->max_forwards(), 0U);

    auto multi = parse_message(corpus_file("multi01.dat"));
    ASSERT_TRUE(multi);
    EXPECT_EQ(multi->call_id(), "multi01.98asdh@192.0.2.1");
    EXPECT_EQ(multi->cseq().seq, 5U);
    EXPECT_EQ(multi->to().uri.user, "user");
    EXPECT_EQ(multi->from().tag, "3413415");
    EXPECT_EQ(multi->max_forwards(), 70U);
    EXPECT_EQ(multi->contacts().size(), 2U);

    auto mcl = parse_message(corpus_file("mcl01.dat"));
    ASSERT_TRUE(mcl);
    EXPECT_EQ(mcl->content_length(), 13U);

    auto regaut = parse_message(corpus_file("regaut01.dat"));
    ASSERT_TRUE(regaut);
    EXPECT_EQ(regaut->find(header_id::authorization)->value,
              "NoOneKnowsThisScheme opaque-data=here");
    EXPECT_EQ(regaut->content_length(), 0U);
}

// serialize() gives back the bytes of every message the corpus says is well formed.
TEST(Rfc4475, SerializeRoundTrip) {
    const auto rows = test::read_index();
    int checked = 0;
    for (const auto& [name, row] : rows) {
        if (row.v != verdict::accept && row.v != verdict::app_layer) continue;
        SCOPED_TRACE(name);
        const std::string bytes = corpus_file(name);
        auto m = parse_message(bytes);
        ASSERT_TRUE(m);
        const std::string out = serialize(*m);
        EXPECT_EQ(out, std::string_view(bytes).substr(0, m->wire().size()));
        if (name != "dblreq.dat") {
            EXPECT_EQ(out, bytes);
        }
        // Parsing the output again gives the same structure.
        auto again = parse_message(out);
        ASSERT_TRUE(again);
        EXPECT_EQ(again->headers().size(), m->headers().size());
        EXPECT_EQ(again->vias().size(), m->vias().size());
        EXPECT_EQ(again->body(), m->body());
        ++checked;
    }
    EXPECT_EQ(checked, 26);
}

TEST(Rfc4475, ErrorResponses) {
    // badinv01 cannot be parsed; the UAS still answers it with a 400 naming the problem.
    const std::string bad = corpus_file("badinv01.dat");
    auto m = parse_message(bad);
    ASSERT_FALSE(m);
    auto resp = make_error_response(bad, status_for(m.error().code), m.error().what(), "srv1");
    ASSERT_TRUE(resp);
    // The Via is copied as received (RFC 3261 §8.2.6.2), broken as it is, so the response is
    // checked as text rather than with the strict parser.
    EXPECT_EQ(*resp,
              "SIP/2.0 400 Bad Via: empty parameter\r\n"
              "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n"
              "From: sip:caller@example.net;tag=134161461246\r\n"
              "To: sip:j.user@example.com;tag=srv1\r\n"
              "Call-ID: badinv01.0ha0isndaksdjasdf3234nas\r\n"
              "CSeq: 8 INVITE\r\n"
              "Content-Length: 0\r\n\r\n");

    const std::string vers = corpus_file("badvers.dat");
    auto v = parse_message(vers);
    ASSERT_FALSE(v);
    auto resp505 = make_error_response(vers, status_for(v.error().code), v.error().what(), "x");
    ASSERT_TRUE(resp505);
    EXPECT_TRUE(resp505->starts_with("SIP/2.0 505 Version not supported"));
    auto p505 = parse_message(*resp505);
    ASSERT_TRUE(p505) << *resp505;
    EXPECT_EQ(p505->status(), 505);
    EXPECT_EQ(p505->vias().size(), 1U);
    EXPECT_TRUE(validate_response(*p505));

    // A response is never answered.
    EXPECT_FALSE(make_error_response(corpus_file("bigcode.dat"), 400, "x", "t"));
    // insuf lacks From, To and Call-ID: nothing can be formed.
    EXPECT_FALSE(make_error_response(corpus_file("insuf.dat"), 400, "x", "t"));
}

}  // namespace
}  // namespace b2b::sip
