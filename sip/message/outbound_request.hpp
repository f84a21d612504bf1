// A request we originate: its bytes plus the places in them the transaction layer reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message/message.hpp"
#include "sip/message/method.hpp"
#include "sip/message/writer.hpp"

namespace b2b::sip {

/// A request on its way out, as a client transaction keeps it: the exact bytes to send and
/// retransmit, and where in them the fields lie that matching responses (top Via branch,
/// method) and building the CANCEL (§9.1) or the ACK for a non-2xx (§17.1.1.3) need. Made by
/// `request_builder` while it writes, so nothing we write is parsed again; or taken over from
/// a parsed message (tests, a relayed request). Positions are offsets, so a move keeps them.
/// Move-only value; no thread affinity.
class outbound_request {
  public:
    outbound_request() = default;
    outbound_request(outbound_request&&) noexcept = default;
    outbound_request& operator=(outbound_request&&) noexcept = default;
    outbound_request(const outbound_request&) = delete;
    outbound_request& operator=(const outbound_request&) = delete;

    /// Takes over a parsed request (its bytes are copied once). `m` must be a request with at
    /// least one Via; the caller checks (transaction_manager refuses others).
    static outbound_request from_message(const message& m);

    std::string_view wire() const noexcept { return wire_; }
    sip::method method() const noexcept { return method_; }
    std::string_view method_text() const noexcept { return view(method_text_); }
    std::string_view request_uri() const noexcept { return view(request_uri_); }
    /// The top Via value (ours) and its branch parameter.
    std::string_view top_via() const noexcept { return view(top_via_); }
    std::string_view branch() const noexcept { return view(branch_); }
    std::string_view from() const noexcept { return view(from_); }
    std::string_view to() const noexcept { return view(to_); }
    std::string_view call_id() const noexcept { return view(call_id_); }
    std::uint32_t cseq() const noexcept { return cseq_; }
    /// Number of Route header lines, and each one whole ("Route: <sip:p;lr>", no CRLF), in order.
    std::size_t route_count() const noexcept { return routes_.size(); }
    std::string_view route_line(std::size_t i) const noexcept { return view(routes_[i]); }

    /// Adds a header line after the others unless one of that name is there
    /// (`add_header_if_absent`); every position recorded lies before it and stays valid.
    bool add_header_if_absent(std::string_view name, std::string_view value);

  private:
    friend class request_builder;
    struct slice {
        std::uint32_t offset = 0;
        std::uint32_t length = 0;
    };
    std::string_view view(slice s) const noexcept { return std::string_view(wire_).substr(s.offset, s.length); }

    std::string wire_;
    sip::method method_ = sip::method::unknown;
    slice method_text_, request_uri_, top_via_, branch_, from_, to_, call_id_;
    std::uint32_t cseq_ = 0;
    std::vector<slice> routes_;  // allocates only when there are Route headers
};

/// Writes a request and records, as it goes, what `outbound_request` exposes. Headers appear
/// on the wire in the order the calls are made; the first `via` is the top one.
///
/// @code
///   auto r = request_builder("INVITE", "sip:1000@trunk.example")
///                .via("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK...;rport")
///                .max_forwards(70)
///                .from("<sip:alice@b2bua>;tag=1a2b").to("<sip:1000@trunk.example>")
///                .call_id("f81d4fae").cseq(1, "INVITE")
///                .finish(sdp, "application/sdp");
/// @endcode
class request_builder {
  public:
    request_builder(std::string_view method, std::string_view request_uri, std::size_t reserve = 1024);

    request_builder& via(std::string_view value);
    request_builder& route(std::string_view value);
    request_builder& max_forwards(unsigned hops);
    request_builder& from(std::string_view value);
    request_builder& to(std::string_view value);
    request_builder& call_id(std::string_view value);
    /// "CSeq: <seq> <method>"; `method` empty = the request's method.
    request_builder& cseq(std::uint32_t seq, std::string_view method = {});
    /// Any other header.
    request_builder& header(std::string_view name, std::string_view value);
    request_builder& header(header_id id, std::string_view value);

    /// Content-Type (for a non-empty body), Content-Length, the empty line and the body.
    /// The builder is left empty: its buffer moves into the result.
    outbound_request finish(std::string_view body = {}, std::string_view content_type = {});

  private:
    // Records where the value of the header line just written lies.
    outbound_request::slice last_value(std::size_t value_size) const noexcept;

    message_writer w_;
    std::string method_;  // short: kept in the string's own buffer
    outbound_request r_;
};

}  // namespace b2b::sip
