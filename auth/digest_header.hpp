// Digest challenge and credentials header values: value types, parsers and serializers.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace b2b::auth {

/// Why a WWW-/Proxy-Authenticate or (Proxy-)Authorization value could not be parsed.
enum class parse_errc {
    ok = 0,
    empty = 1,            ///< nothing but whitespace
    not_digest,           ///< another scheme (Basic, Bearer, ...)
    bad_syntax,           ///< not `Digest auth-param *("," auth-param)`
    unterminated_quote,   ///< a quoted-string runs to the end of the value
    duplicate_parameter,  ///< a parameter we read appears twice
    missing_parameter,    ///< a challenge without realm or nonce (RFC 7616 §3.3)
};

const boost::system::error_category& parse_category() noexcept;

inline boost::system::error_code make_error_code(parse_errc e) noexcept {
    return {static_cast<int>(e), parse_category()};
}

/// A parse failure: the code and a detail naming the parameter or offset at fault.
struct parse_error {
    parse_errc code = parse_errc::ok;
    std::string detail;

    /// "duplicate_parameter: nonce" style one-liner for logs.
    std::string what() const;
};

template <class T>
using parse_result = boost::system::result<T, parse_error>;

/// Boost.System calls this when `.value()` is used on a failed parse_result.
[[noreturn]] void throw_exception_from_error(const parse_error& e,
                                             const boost::source_location& loc);

/// A Digest challenge (RFC 7616 §3.3, RFC 3261 §25.1 `digest-cln`): the value of one
/// WWW-Authenticate or Proxy-Authenticate header. Plain value type; strings are unescaped.
struct digest_challenge {
    std::string realm;
    std::string nonce;
    std::optional<std::string> opaque;
    std::string algorithm_token;   ///< as received; empty when absent (which means MD5)
    std::vector<std::string> qop;  ///< qop-options, lower-cased, e.g. {"auth", "auth-int"}
    bool stale = false;            ///< stale=true (case-insensitive)
    std::string domain;            ///< unparsed URI list; empty when absent
    bool userhash = false;         ///< userhash=true (RFC 7616 §3.4.4)
    std::string charset;           ///< "UTF-8" or empty

    /// True when qop-options list "auth".
    bool offers_qop_auth() const noexcept;
};

/// Digest credentials (RFC 7616 §3.4, RFC 3261 §25.1 `digest-response`): the value of one
/// Authorization or Proxy-Authorization header. Every parameter is optional at this level so
/// that the verifier can say precisely which one is missing: an empty string means absent (or
/// empty, which is no better); qop and opaque distinguish absent from empty.
struct digest_credentials {
    std::string username;
    std::string realm;
    std::string nonce;
    std::string uri;
    std::string response;
    std::string algorithm_token;  ///< as received; empty = absent (MD5)
    std::string cnonce;
    std::string nc;                     ///< as received; 8 hex digits when well formed
    std::optional<std::string> qop;     ///< as received, e.g. "auth"; nullopt = RFC 2069 form
    std::optional<std::string> opaque;  ///< nullopt when absent; must echo the challenge's
    bool userhash = false;
};

/// Parses a WWW-Authenticate / Proxy-Authenticate value. The scheme and parameter names are
/// case-insensitive; values may be tokens or quoted-strings (with `\` escapes) whatever the
/// parameter; LWS, including line folding, is allowed around ',' and '='; unknown parameters
/// are ignored; a repeated known parameter is an error; realm and nonce are required.
/// Never throws on any input and reads only inside `value`.
parse_result<digest_challenge> parse_challenge(std::string_view value);

/// Parses an Authorization / Proxy-Authorization value with the same lexical rules as
/// parse_challenge. Requires only the syntax: the verifier checks which parameters are present.
parse_result<digest_credentials> parse_credentials(std::string_view value);

/// Serialises a challenge: `Digest realm="...", [domain="...", ]nonce="...", [opaque="...", ]
/// [algorithm=X, ][qop="auth", ][stale=true, ][charset=UTF-8, ][userhash=true]`.
/// Absent (empty) fields are left out. Quotes, backslashes and other control bytes are escaped
/// as quoted-pairs; CR, LF and NUL (which no quoted-string can carry) are dropped.
std::string to_header_value(const digest_challenge& c);

/// Serialises credentials: `Digest username="...", realm="...", nonce="...", uri="...",
/// response="...", [algorithm=X, ][cnonce="...", ][opaque="...", ][qop=auth, nc=00000001, ]
/// [userhash=true]`, leaving out empty fields, with the escaping of to_header_value above.
std::string to_header_value(const digest_credentials& c);

}  // namespace b2b::auth

template <>
struct boost::system::is_error_code_enum<b2b::auth::parse_errc> : std::true_type {};
