// A parsed SIP message (RFC 3261 §7, §25) and the parser that makes one.
#pragma once

#include <boost/container/small_vector.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sip/message/error.hpp"
#include "sip/message/header.hpp"
#include "sip/message/text.hpp"
#include "sip/message/method.hpp"
#include "sip/message/uri.hpp"

namespace b2b::sip {

namespace detail {
struct message_access;  // the parser's way in (sip/message/detail)
}

/// One via-parm of a Via header (RFC 3261 §20.42). Views into the message buffer.
struct via {
    std::string_view text;              ///< the whole via-parm as written
    std::string_view protocol_name;     ///< "SIP"
    std::string_view protocol_version;  ///< "2.0"
    std::string_view transport;         ///< "UDP", "TCP", "TLS", "SCTP", or any token
    std::string_view host;              ///< IPv6 references keep their brackets
    host_kind host_type = host_kind::none;
    std::uint16_t port = 0;     ///< 0 when sent-by has no port
    std::string_view params;    ///< raw via-params from the first ';' (may be empty)
    std::string_view branch;    ///< empty when absent
    std::string_view received;  ///< empty when absent
    bool has_rport = false;     ///< rport present, with or without a value
    std::uint16_t rport = 0;    ///< 0 when rport has no value

    /// Value of a via-param by case-insensitive name (nullopt when absent, "" when valueless).
    std::optional<std::string_view> param(std::string_view name) const noexcept;

    /// The branch starts with the RFC 3261 magic cookie "z9hG4bK" (§8.1.1.7).
    bool has_rfc3261_branch() const noexcept;
};

/// A name-addr or addr-spec with header parameters: From, To, Contact, Route, Record-Route
/// values (RFC 3261 §20.10, §25.1). Views into the message buffer.
struct name_addr {
    std::string_view text;          ///< the whole value as written
    std::string_view display_name;  ///< as written: quoted (with quotes), token list, or empty
    sip::uri uri;
    std::string_view params;  ///< raw header params after the URI, from the first ';'
    std::string_view tag;     ///< the tag parameter, empty when absent
    bool bracketed = false;   ///< the URI was written in <...> (name-addr form)

    /// Value of a header parameter by case-insensitive name (nullopt when absent).
    std::optional<std::string_view> param(std::string_view name) const noexcept;

    /// The display name with surrounding quotes removed and quoted-pairs resolved.
    std::string display_name_text() const;
};

struct cseq_value {
    std::uint32_t seq = 0;  ///< at most 2^31-1 (RFC 3261 §8.1.1.5)
    sip::method method = sip::method::unknown;
    std::string_view method_text;
};

/// How the bytes given to the parser are framed.
enum class framing : std::uint8_t {
    /// One UDP datagram: the body is Content-Length octets (octets past it are ignored,
    /// RFC 3261 §18.3); without Content-Length the body runs to the end of the datagram.
    datagram,
    /// Exactly one message cut from a stream by `frame_stream`: Content-Length is mandatory.
    stream,
};

/// A parsed SIP request or response. It owns a copy of the bytes it was parsed from; every
/// view it hands out (header values, URIs, body) points into that copy and stays valid as
/// long as the message lives, including after a move. Move-only.
///
/// The headers the stack needs are parsed eagerly (Via, From, To, Call-ID, CSeq,
/// Max-Forwards, Content-Length, Contact, Route, Record-Route); any other header is kept as
/// text, unknown ones included, and reached through `headers()` / `find()`.
///
/// A message from `parse_message` is syntactically valid. Whether it is complete enough to
/// process (mandatory headers present, CSeq method matching, ...) is `validate_request`'s
/// and `validate_response`'s job, so that a broken request can still be answered.
class message {
  public:
    message() = default;
    message(message&&) noexcept = default;
    message& operator=(message&&) noexcept = default;
    message(const message&) = delete;
    message& operator=(const message&) = delete;

    bool is_request() const noexcept { return is_request_; }
    bool is_response() const noexcept { return !is_request_; }

    // Request line (requests only).
    sip::method method() const noexcept { return method_; }
    std::string_view method_text() const noexcept { return method_text_; }
    const sip::uri& request_uri() const noexcept { return request_uri_; }

    // Status line (responses only).
    int status() const noexcept { return status_; }
    std::string_view reason() const noexcept { return reason_; }

    /// "SIP/2.0" as written on the start line.
    std::string_view version() const noexcept { return version_; }

    /// Every header line in order of arrival.
    std::span<const header_field> headers() const noexcept { return headers_; }
    /// First header with this id, or nullptr.
    const header_field* find(header_id id) const noexcept;
    /// First header with this name (long or compact form, any case), or nullptr.
    const header_field* find(std::string_view name) const noexcept;
    /// Number of header lines with this id.
    std::size_t count(header_id id) const noexcept;
    /// The values of every header line with this id, in order (e.g. all Proxy-Authenticate).
    boost::container::small_vector<std::string_view, 2> values(header_id id) const;

    /// Every Via value in order, across all Via header lines. Empty when there is no Via.
    std::span<const via> vias() const noexcept { return vias_; }
    /// Contact values in order; empty for none or for "*".
    std::span<const name_addr> contacts() const noexcept { return contacts_; }
    bool contact_is_star() const noexcept { return contact_star_; }
    std::span<const name_addr> routes() const noexcept { return routes_; }
    std::span<const name_addr> record_routes() const noexcept { return record_routes_; }

    /// From and To. Default-constructed (empty text) when the header is absent.
    const name_addr& from() const noexcept { return from_; }
    const name_addr& to() const noexcept { return to_; }
    /// Empty when absent.
    std::string_view call_id() const noexcept { return call_id_; }
    /// seq 0 and method `unknown` with empty text when absent.
    const cseq_value& cseq() const noexcept { return cseq_; }
    std::optional<unsigned> max_forwards() const noexcept { return max_forwards_; }
    /// The declared Content-Length; nullopt when the header is absent (datagram framing only).
    std::optional<std::size_t> content_length() const noexcept { return content_length_; }

    std::string_view body() const noexcept { return body_; }

    /// Where a received request came from, noted by the transaction layer: the source address
    /// (as text, IPv6 without brackets) and port. A response built from the request writes them
    /// into its top Via (`received`, `rport`: RFC 3261 §18.2.1, RFC 3581 §4). Empty/0 until noted.
    void note_source(std::string_view address, std::uint16_t port) {
        source_address_.assign(address);
        source_port_ = port;
    }
    std::string_view source_address() const noexcept { return source_address_; }
    std::uint16_t source_port() const noexcept { return source_port_; }

    /// Exactly the bytes of this message (start line to end of body), as received.
    std::string_view wire() const noexcept { return {buffer_.get(), size_}; }

  private:
    friend struct detail::message_access;

    std::unique_ptr<char[]> buffer_;
    std::size_t size_ = 0;
    bool is_request_ = false;
    bool contact_star_ = false;
    sip::method method_ = sip::method::unknown;
    int status_ = 0;
    std::string_view method_text_;
    sip::uri request_uri_;
    std::string_view reason_;
    std::string_view version_;
    boost::container::small_vector<header_field, 16> headers_;
    boost::container::small_vector<via, 2> vias_;
    boost::container::small_vector<name_addr, 1> contacts_;
    boost::container::small_vector<name_addr, 1> routes_;
    boost::container::small_vector<name_addr, 1> record_routes_;
    name_addr from_;
    name_addr to_;
    std::string_view call_id_;
    cseq_value cseq_;
    std::optional<unsigned> max_forwards_;
    std::optional<std::size_t> content_length_;
    std::string_view body_;
    std::string source_address_;
    std::uint16_t source_port_ = 0;
};

/// Calls `fn(item)` for every list item (`any_item_of`) of every header `id` of `m`, in order,
/// until `fn` returns true; returns whether it did.
template <class Fn>
bool any_list_item(const message& m, header_id id, Fn&& fn) {
    for (const auto& h : m.headers()) {
        if (h.id == id && any_item_of(h.value, fn)) return true;
    }
    return false;
}

/// The same for a header known only by name (an extension header such as P-Asserted-Identity).
template <class Fn>
bool any_list_item(const message& m, std::string_view name, Fn&& fn) {
    for (const auto& h : m.headers()) {
        if (iequals(h.name, name) && any_item_of(h.value, fn)) return true;
    }
    return false;
}

/// Parses one message. With `framing::datagram`, `bytes` is a whole datagram: octets after
/// the body are ignored. With `framing::stream`, `bytes` is exactly one message as cut by
/// `frame_stream`. Messages larger than `max_size` are refused. Never throws on bad input.
parse_result<message> parse_message(std::string_view bytes, framing f = framing::datagram,
                                    std::size_t max_size = 65535) noexcept;

/// Where the next message in a stream (TCP, TLS) buffer ends.
struct stream_frame {
    std::size_t leading_crlf = 0;  ///< CR/LF octets before the message (RFC 5626 keep-alives)
    std::size_t size = 0;          ///< length of the message after them; 0 = need more bytes
};

/// Looks for one complete message at the start of `buffer` (after any leading CRLFs), using
/// Content-Length, which a stream requires (RFC 3261 §18.3). Errors (no or bad
/// Content-Length, header section over `max_size`) mean the stream cannot be framed any more
/// and the connection should be closed after answering, if possible.
///
/// `searched`, when given, carries how far into `buffer` the search for the end of the header
/// section got, from one call to the next on the same buffer as it grows (0 for a new
/// message): a header sent a few octets at a time is then scanned once, not once per read.
/// It is an offset into `buffer`, so leading CRLFs removed between calls must be subtracted.
parse_result<stream_frame> frame_stream(std::string_view buffer, std::size_t max_size = 65535,
                                        std::size_t* searched = nullptr) noexcept;

/// The checks a UAS applies to a request before processing it (RFC 3261 §8.2, §16.3):
/// SIP/2.0, mandatory headers (To, From, CSeq, Call-ID, Via, and Max-Forwards unless the
/// sender is an RFC 2543 element), single-value headers not repeated, CSeq method equal to the
/// request method, values in range, a well-formed Date when present.
parse_result<void> validate_request(const message& m);

/// The checks a UAC applies to a response before matching it to a transaction.
parse_result<void> validate_response(const message& m);

/// Writes the message back: start line, each header line exactly as received, the empty line
/// and the body. `serialize(*parse_message(x))` equals `x` minus any octets after the body.
std::string serialize(const message& m);

}  // namespace b2b::sip
