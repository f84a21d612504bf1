// libFuzzer target: the Digest header parsers (RFC 7616 §3.3 challenge, §3.4 credentials;
// RFC 3261 §25.1 digest-cln and digest-response) and their serializers.
//
// The first octet chooses the parser (even: WWW-/Proxy-Authenticate, odd: (Proxy-)Authorization).
// Invariants: what parses serializes to a value that parses again to the same fields (the
// serializer drops CR, LF and NUL, which no quoted-string carries, so the comparison is made
// from the first serialization on), and serializing that again gives the same text.
#include "auth/digest_header.hpp"
#include "fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace b2b::auth;

namespace {

bool same(const digest_challenge& a, const digest_challenge& b) {
    return a.realm == b.realm && a.nonce == b.nonce && a.opaque == b.opaque && a.algorithm_token == b.algorithm_token &&
           a.qop == b.qop && a.stale == b.stale && a.domain == b.domain && a.userhash == b.userhash &&
           a.charset == b.charset;
}

bool same(const digest_credentials& a, const digest_credentials& b) {
    return a.username == b.username && a.realm == b.realm && a.nonce == b.nonce && a.uri == b.uri &&
           a.response == b.response && a.algorithm_token == b.algorithm_token && a.cnonce == b.cnonce &&
           a.nc == b.nc && a.qop == b.qop && a.opaque == b.opaque && a.userhash == b.userhash;
}

template <class Parse>
void round_trip(std::string_view value, Parse parse) {
    auto first = parse(value);
    if (!first) {
        (void)first.error().what();
        return;
    }
    const std::string text = to_header_value(*first);
    auto second = parse(text);
    if (!second) return;  // a field the serializer leaves out when empty (realm="") was required
    const std::string text2 = to_header_value(*second);
    auto third = parse(text2);
    B2B_FUZZ_CHECK(third);
    B2B_FUZZ_CHECK(same(*second, *third));
    B2B_FUZZ_CHECK(to_header_value(*third) == text2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view value(reinterpret_cast<const char*>(data) + 1, size - 1);
    if ((data[0] & 1) == 0) {
        round_trip(value, [](std::string_view v) { return parse_challenge(v); });
        if (auto c = parse_challenge(value)) (void)c->offers_qop_auth();
    } else {
        round_trip(value, [](std::string_view v) { return parse_credentials(v); });
    }
    return 0;
}
