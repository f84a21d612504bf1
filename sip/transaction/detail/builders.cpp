// Writes the ACK for a non-2xx final response and the CANCEL of an INVITE.
#include "sip/transaction/detail/builders.hpp"

#include "sip/message/writer.hpp"

#include <algorithm>

namespace b2b::sip::detail {

// Route headers go out exactly as the request carried them: §17.1.1.3 and §9.1 both say the
// ACK and CANCEL take the request's Route header fields.

std::string make_ack(const outbound_request& request, const message& response) {
    message_writer w(512);
    w.request_line("ACK", request.request_uri()).header(header_id::via, request.top_via());
    for (std::size_t i = 0; i < request.route_count(); ++i) w.raw_line(request.route_line(i));
    w.header(header_id::max_forwards, "70")
        .header(header_id::from, request.from())
        .header(header_id::to, response.to().text)
        .header(header_id::call_id, request.call_id())
        .header_concat("CSeq", request.cseq(), " ACK");
    return std::move(w).finish();
}

outbound_request make_cancel(const outbound_request& request, std::string_view reason) {
    request_builder b("CANCEL", request.request_uri(), 512);
    b.via(request.top_via());
    for (std::size_t i = 0; i < request.route_count(); ++i) {
        // A whole line "Route: value": the builder wants the value.
        std::string_view line = request.route_line(i);
        line.remove_prefix(std::min(line.size(), line.find(':') + 1));
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        b.route(line);
    }
    b.max_forwards(70).from(request.from()).to(request.to()).call_id(request.call_id()).cseq(request.cseq());
    if (!reason.empty()) b.header(header_id::reason, reason);
    return std::move(b).finish();
}

}  // namespace b2b::sip::detail
