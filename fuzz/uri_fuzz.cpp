// libFuzzer target: the URI parser (RFC 3261 §19.1, §25.1; RFC 5118 IPv6 references), URI
// equivalence (§19.1.4), and the escaping helpers.
//
// Invariants: every field of a parsed URI is a view inside the text given; a URI is equivalent
// to itself; a user part decoded and escaped again decodes to the same octets.
#include "fuzz/fuzz_check.hpp"
#include "sip/message/uri.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

using namespace b2b::sip;

namespace {

bool inside(std::string_view part, std::string_view whole) {
    if (part.empty()) return true;
    const std::less_equal<const char*> le;
    return le(whole.data(), part.data()) && le(part.data() + part.size(), whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = parse_uri(text);
    if (!parsed) {
        (void)parsed.error().what();
        return 0;
    }
    const uri& u = *parsed;
    for (std::string_view part : {u.text, u.scheme, u.opaque, u.user, u.password, u.host, u.params, u.headers}) {
        B2B_FUZZ_CHECK(inside(part, text));
    }
    B2B_FUZZ_CHECK(equivalent(u, u));
    (void)u.param("transport");
    (void)u.param("maddr");
    (void)u.transport();
    (void)u.host_without_brackets();
    (void)same_ip_address(u.host, u.host);

    const std::string user = unescape(u.user);
    const std::string escaped = escape_user(user);
    B2B_FUZZ_CHECK(unescape(escaped) == user);

    // The same text parsed again (as another message would carry it) is equivalent.
    const std::string copy(text);
    auto again = parse_uri(copy);
    B2B_FUZZ_CHECK(again);
    B2B_FUZZ_CHECK(equivalent(u, *again));
    return 0;
}
