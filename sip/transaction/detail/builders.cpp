// Writes the ACK for a non-2xx final response and the CANCEL of an INVITE.
#include "sip/transaction/detail/builders.hpp"

#include "sip/message/writer.hpp"

namespace b2b::sip::detail {

namespace {

// Route headers go out exactly as the request carried them: §17.1.1.3 and §9.1 both say the
// ACK and CANCEL take the request's Route header fields.
void copy_routes(message_writer& w, const message& request) {
    for (const header_field& h : request.headers()) {
        if (h.id == header_id::route) {
            w.raw_line(h.raw);
        }
    }
}

}  // namespace

std::string make_ack(const message& request, const message& response) {
    message_writer w(512);
    w.request_line("ACK", request.request_uri().text)
        .header(header_id::via, request.vias().front().text);
    copy_routes(w, request);
    w.header(header_id::max_forwards, "70")
        .header(header_id::from, request.from().text)
        .header(header_id::to, response.to().text)
        .header(header_id::call_id, request.call_id())
        .header_concat("CSeq", request.cseq().seq, " ACK");
    return std::move(w).finish();
}

std::string make_cancel(const message& request, std::string_view reason) {
    message_writer w(512);
    w.request_line("CANCEL", request.request_uri().text)
        .header(header_id::via, request.vias().front().text);
    copy_routes(w, request);
    w.header(header_id::max_forwards, "70")
        .header(header_id::from, request.from().text)
        .header(header_id::to, request.to().text)
        .header(header_id::call_id, request.call_id())
        .header_concat("CSeq", request.cseq().seq, " CANCEL");
    if (!reason.empty()) {
        w.header(header_id::reason, reason);
    }
    return std::move(w).finish();
}

}  // namespace b2b::sip::detail
