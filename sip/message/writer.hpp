// Building outgoing SIP messages as bytes, and the responses a UAS forms from a request.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "sip/message/header.hpp"
#include "sip/message/message.hpp"

namespace b2b::sip {

/// Appends a message to a string, line by line, in wire format (CRLF line ends).
/// It does not check grammar: callers pass values they built or copied from parsed messages.
/// `finish` writes Content-Type (when there is a body), Content-Length, the empty line and the
/// body, so every message we send is framed for any transport (RFC 3261 §18.3, §20.14).
///
/// Typical use:
/// @code
///   auto bytes = message_writer{}
///       .request_line("INVITE", "sip:1000@trunk.example")
///       .header(header_id::via, via_value)
///       .header_concat("From", "<sip:", user, "@", host, ">;tag=", tag)
///       .finish(sdp, "application/sdp");
/// @endcode
class message_writer {
  public:
    explicit message_writer(std::size_t reserve = 1024);

    message_writer& request_line(std::string_view method, std::string_view request_uri);
    message_writer& status_line(int status, std::string_view reason);

    /// "Name: value" CRLF.
    message_writer& header(std::string_view name, std::string_view value);
    /// Same, with the canonical long name of a known header.
    message_writer& header(header_id id, std::string_view value);

    /// "Name: " followed by the concatenation of `parts` (string_views or integers), CRLF.
    template <class... Parts>
    message_writer& header_concat(std::string_view name, const Parts&... parts) {
        begin_header(name);
        (append(parts), ...);
        out_ += "\r\n";
        return *this;
    }

    /// A header line copied verbatim from a parsed message (`header_field::raw`).
    message_writer& raw_line(std::string_view raw);

    /// Octets written so far (where the next line starts).
    std::size_t size() const noexcept { return out_.size(); }

    /// Ends the headers and appends the body. Content-Type is written only for a non-empty body.
    std::string finish(std::string_view body = {}, std::string_view content_type = {}) &&;
    /// Same, for the chained form above (each call returns `message_writer&`). The writer is
    /// left empty: its buffer moves into the result.
    std::string finish(std::string_view body = {}, std::string_view content_type = {}) &;

  private:
    void begin_header(std::string_view name);
    void append(std::string_view s) { out_ += s; }
    void append(const std::string& s) { out_ += s; }
    void append(const char* s) { out_ += s; }
    void append(char c) { out_ += c; }
    void append(unsigned long long v);
    void append(long long v);
    void append(unsigned v) { append(static_cast<unsigned long long>(v)); }
    void append(unsigned long v) { append(static_cast<unsigned long long>(v)); }
    void append(int v) { append(static_cast<long long>(v)); }
    void append(long v) { append(static_cast<long long>(v)); }
    void append(unsigned short v) { append(static_cast<unsigned long long>(v)); }

    std::string out_;
};

/// Starts a response to `request` as RFC 3261 §8.2.6.2 requires: status line, then every Via
/// (in order), From, To, Call-ID and CSeq copied from the request. When the request's To has
/// no tag and `to_tag` is not empty, ";tag=<to_tag>" is appended to To. (A 100 Trying passes
/// an empty `to_tag`.) The caller adds any further headers and calls `finish`.
message_writer response_writer(const message& request, int status, std::string_view reason,
                               std::string_view to_tag = {});

/// Forms a response to a request that failed to parse, from its raw bytes, so that a client
/// learns why (RFC 3261 §8.2, §16.3: 400 with the reason). The bytes are scanned leniently for
/// the start line and the Via, From, To, Call-ID and CSeq lines (long or compact names),
/// which are copied as written. Returns nullopt when no response can be formed: the message
/// is a response, or one of those five headers cannot be found, or the request is an ACK
/// (never answered). `reason` is sanitized into a valid reason phrase.
std::optional<std::string> make_error_response(std::string_view raw_request, int status,
                                               std::string_view reason, std::string_view to_tag);

/// Adds `name: value` as the last header line of the finished message `wire` (just before the
/// empty line, so nothing before it moves), unless a header of that name (case-insensitive,
/// long form) is already there. For the product header (Server, User-Agent) the transaction
/// layer puts in every message it sends, when configured. Returns whether it was added; a
/// `wire` without an empty line is left alone.
bool add_header_if_absent(std::string& wire, std::string_view name, std::string_view value);

/// The default reason phrase for a status code ("Not Found" for 404), or "" when unknown.
std::string_view default_reason(int status) noexcept;

}  // namespace b2b::sip
