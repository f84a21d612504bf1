// libFuzzer target: one UDP datagram through the SIP parser (RFC 3261 §7, §25), the UAS and
// UAC checks, every accessor the stack reads, and the serializer.
//
// Invariants beyond "no crash, no sanitizer report": a parsed message serializes to exactly
// the octets it was parsed from (minus CRLFs before the start line, RFC 3261 §7.5, and any
// octets after the body, §18.3), and that text parses again to a message with the same start
// line, headers and body.
#include "fuzz/fuzz_check.hpp"
#include "sip/message/message.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace b2b::sip;

// Reads what the transaction layer, the dialog layer and the core read from a message.
std::size_t touch(const message& m) {
    std::size_t n = m.method_text().size() + m.reason().size() + m.version().size() + m.body().size();
    n += m.request_uri().host_without_brackets().size() + m.request_uri().transport().size();
    for (const auto& h : m.headers()) n += h.name.size() + h.value.size();
    for (const auto& v : m.vias()) {
        n += v.branch.size() + v.has_rfc3261_branch() + v.param("maddr").value_or("").size();
    }
    for (const auto& c : m.contacts()) n += c.display_name_text().size() + c.param("expires").value_or("").size();
    n += m.from().display_name_text().size() + m.to().tag.size() + m.call_id().size();
    n += m.routes().size() + m.record_routes().size() + m.count(header_id::via);
    n += m.values(header_id::proxy_authorization).size();
    any_list_item(m, header_id::supported, [&](std::string_view item) {
        n += item.size();
        return false;
    });
    any_list_item(m, "P-Asserted-Identity", [&](std::string_view item) {
        n += item.size();
        return false;
    });
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto parsed = parse_message(bytes, framing::datagram);
    if (!parsed) {
        (void)parsed.error().what();
        return 0;
    }
    const message& m = *parsed;
    (void)(m.is_request() ? validate_request(m) : validate_response(m));
    (void)touch(m);

    const std::string text = serialize(m);
    B2B_FUZZ_CHECK(text == m.wire());
    const std::size_t start = bytes.find_first_not_of("\r\n");
    B2B_FUZZ_CHECK(start != std::string_view::npos && bytes.substr(start, text.size()) == text);

    auto again = parse_message(text, framing::datagram);
    B2B_FUZZ_CHECK(again);
    B2B_FUZZ_CHECK(again->is_request() == m.is_request());
    B2B_FUZZ_CHECK(again->method_text() == m.method_text());
    B2B_FUZZ_CHECK(again->status() == m.status());
    B2B_FUZZ_CHECK(again->headers().size() == m.headers().size());
    B2B_FUZZ_CHECK(again->vias().size() == m.vias().size());
    B2B_FUZZ_CHECK(again->body() == m.body());
    B2B_FUZZ_CHECK(serialize(*again) == text);
    return 0;
}
