// The `b2b.sip` error category, status mapping and parse_error formatting.
#include "sip/message/error.hpp"

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

namespace b2b::sip {

namespace {

// Short, capitalised phrases: parse_error::what() puts them in front of the detail to form a
// reason phrase, so they must stay printable ASCII.
const char* describe(errc e) noexcept {
    switch (e) {
        case errc::ok:
            return "Success";
        case errc::empty_message:
            return "Empty message";
        case errc::headers_not_terminated:
            return "Header section not terminated";
        case errc::bad_start_line:
            return "Bad start line";
        case errc::bad_method:
            return "Bad method";
        case errc::bad_request_uri:
            return "Bad Request-URI";
        case errc::bad_version:
            return "Bad SIP version";
        case errc::version_not_supported:
            return "Version not supported";
        case errc::bad_status_code:
            return "Bad status code";
        case errc::bad_reason_phrase:
            return "Bad reason phrase";
        case errc::bad_header_line:
            return "Bad header line";
        case errc::bad_header_name:
            return "Bad header name";
        case errc::bad_header_value:
            return "Bad header value";
        case errc::duplicate_header:
            return "Duplicate header";
        case errc::missing_header:
            return "Missing header";
        case errc::bad_content_length:
            return "Bad Content-Length";
        case errc::content_length_exceeds_body:
            return "Content-Length exceeds body";
        case errc::content_length_required:
            return "Content-Length required";
        case errc::message_too_large:
            return "Message too large";
        case errc::cseq_method_mismatch:
            return "CSeq method mismatch";
        case errc::bad_max_forwards:
            return "Bad Max-Forwards";
        case errc::bad_cseq:
            return "Bad CSeq";
        case errc::bad_via:
            return "Bad Via";
        case errc::bad_uri:
            return "Bad URI";
    }
    return "Unknown SIP error";
}

// Boost.System gives error_category a protected non-virtual destructor on purpose
// (categories are never deleted through a base pointer); silence -Wnon-virtual-dtor here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class sip_category_impl final : public boost::system::error_category {
  public:
    // A fixed id keeps the category comparable across shared objects (Boost.System idiom).
    constexpr sip_category_impl() noexcept : error_category(0x6232622e73697001ULL) {}

    const char* name() const noexcept override { return "b2b.sip"; }

    std::string message(int ev) const override { return describe(static_cast<errc>(ev)); }

    char const* message(int ev, char*, std::size_t) const noexcept override {
        return describe(static_cast<errc>(ev));
    }
};
#pragma GCC diagnostic pop

// Reason phrases are one line of printable ASCII (RFC 3261 §25.1 allows more, but the
// detail may quote octets from a hostile message, and logs must stay one line).
constexpr std::size_t max_what_length = 200;

}  // namespace

const boost::system::error_category& sip_category() noexcept {
    static const sip_category_impl instance;
    return instance;
}

std::string_view to_string(errc e) noexcept {
    switch (e) {
        case errc::ok: return "ok";
        case errc::empty_message: return "empty_message";
        case errc::headers_not_terminated: return "headers_not_terminated";
        case errc::bad_start_line: return "bad_start_line";
        case errc::bad_method: return "bad_method";
        case errc::bad_request_uri: return "bad_request_uri";
        case errc::bad_version: return "bad_version";
        case errc::version_not_supported: return "version_not_supported";
        case errc::bad_status_code: return "bad_status_code";
        case errc::bad_reason_phrase: return "bad_reason_phrase";
        case errc::bad_header_line: return "bad_header_line";
        case errc::bad_header_name: return "bad_header_name";
        case errc::bad_header_value: return "bad_header_value";
        case errc::duplicate_header: return "duplicate_header";
        case errc::missing_header: return "missing_header";
        case errc::bad_content_length: return "bad_content_length";
        case errc::content_length_exceeds_body: return "content_length_exceeds_body";
        case errc::content_length_required: return "content_length_required";
        case errc::message_too_large: return "message_too_large";
        case errc::cseq_method_mismatch: return "cseq_method_mismatch";
        case errc::bad_max_forwards: return "bad_max_forwards";
        case errc::bad_cseq: return "bad_cseq";
        case errc::bad_via: return "bad_via";
        case errc::bad_uri: return "bad_uri";
    }
    return "unknown";
}

int status_for(errc e) noexcept {
    return e == errc::version_not_supported ? 505 : 400;
}

std::string parse_error::what() const {
    std::string out = describe(code);
    if (!detail.empty()) {
        out += ": ";
        for (char c : detail) {
            if (out.size() >= max_what_length) break;
            const auto u = static_cast<unsigned char>(c);
            out += (u >= 0x20 && u < 0x7F) ? c : '?';
        }
    }
    return out;
}

void throw_exception_from_error(const parse_error& e, const boost::source_location& loc) {
    boost::throw_exception(boost::system::system_error(make_error_code(e.code), e.what()), loc);
}

}  // namespace b2b::sip
