// SIP message layer errors: the `b2b.sip` error category and the typed parse error.
#pragma once

#include <boost/system/error_code.hpp>
#include <string_view>
#include <boost/system/result.hpp>
#include <string>
#include <type_traits>

namespace b2b::sip {

/// Why a message could not be parsed or failed the checks a UAS applies before processing it
/// (RFC 3261 §8.2, §16.3). Each value names one problem; `parse_error::detail` adds where.
enum class errc {
    ok = 0,
    // framing and start line
    empty_message = 1,
    headers_not_terminated,  // no empty line closes the header section
    bad_start_line,          // not "Method SP Request-URI SP SIP-Version" nor a status line
    bad_method,              // method is not a token
    bad_request_uri,         // Request-URI does not parse
    bad_version,             // not of the form SIP/x.y
    version_not_supported,   // SIP/x.y other than SIP/2.0 (505)
    bad_status_code,         // not three digits in 100..699
    bad_reason_phrase,       // control characters in the reason phrase
    // header section
    bad_header_line,   // a line that is not "name: value"
    bad_header_name,   // header name is not a token
    bad_header_value,  // a known header's value does not follow its grammar
    duplicate_header,  // a single-value header (Call-ID, CSeq, From, To, Max-Forwards) repeated
    missing_header,    // a mandatory header is absent
    // body framing
    bad_content_length,           // not a non-negative decimal, or conflicting values
    content_length_exceeds_body,  // declares more octets than the message carries
    content_length_required,      // stream transport and no Content-Length
    message_too_large,            // over the configured limit
    // request checks (RFC 3261 §8.2)
    cseq_method_mismatch,  // CSeq method differs from the request method
    bad_max_forwards,      // Max-Forwards outside 0..255
    bad_cseq,              // sequence number over 2^31-1, or not a number
    bad_via,               // Via value unusable (sent-by, branch, ...)
    bad_uri,               // a URI in a header does not parse
};

const boost::system::error_category& sip_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), sip_category()};
}

/// Stable snake_case name of `e` ("missing_header"), as the enumerator is spelled: a metrics
/// label value.
std::string_view to_string(errc e) noexcept;

/// The SIP status code a UAS answers with when a request fails with `e`:
/// 505 for an unsupported version, 400 for everything else.
int status_for(errc e) noexcept;

/// A parse or validation failure: the code (for programs and metrics) and a human-readable
/// detail naming the header or field at fault (for logs and the 400 reason phrase).
struct parse_error {
    errc code = errc::ok;
    std::string detail;

    /// One line, suitable as a reason phrase: "Bad header value: CSeq sequence number too large".
    std::string what() const;
};

template <class T>
using parse_result = boost::system::result<T, parse_error>;

/// Boost.System calls this when `.value()` is used on a failed parse_result.
[[noreturn]] void throw_exception_from_error(const parse_error& e,
                                             const boost::source_location& loc);

}  // namespace b2b::sip

template <>
struct boost::system::is_error_code_enum<b2b::sip::errc> : std::true_type {};
