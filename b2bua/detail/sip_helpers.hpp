// Small SIP helpers the core's files share.
#pragma once

#include "dialog/dialog.hpp"
#include "dialog/dialog_manager.hpp"
#include "sip/message/message.hpp"
#include "sip/message/text.hpp"
#include "sip/message/writer.hpp"

#include <string>
#include <string_view>

namespace b2b::b2bua::detail {

// What we carry (§20.5): every method relayed inside a call, and PRACK (RFC 3262). Not REFER
// (answered 403, never carried).
inline constexpr std::string_view allow_value =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, MESSAGE, NOTIFY";

inline std::string_view header_value(const sip::message& m, sip::header_id id) {
    const auto* h = m.find(id);
    return h ? h->value : std::string_view{};
}

// §12.1.1: a UAS copies the request's Record-Route into every response that makes a dialog
// (1xx with a tag, 2xx), so that a caller behind a proxy keeps that proxy on its path for the
// ACK, BYE and re-INVITEs. Only the inbound leg's own Record-Route: nothing of the other leg.
inline void copy_record_route(sip::message_writer& w, const sip::message& request) {
    for (const auto& h : request.headers()) {
        if (h.id == sip::header_id::record_route) w.raw_line(h.raw);
    }
}

// What lets the sender of a refused request recover, relayed with the refusal: Retry-After,
// Warning, Unsupported (420), Reason (RFC 3326, the Q.850 cause), Min-SE (RFC 4028, for 422).
// Nothing that names the far end's topology.
inline bool recovery_header(const sip::header_field& h) {
    switch (h.id) {
        case sip::header_id::retry_after:
        case sip::header_id::warning:
        case sip::header_id::unsupported:
        case sip::header_id::reason:
            return true;
        default:
            return sip::iequals(h.name, "Min-SE");
    }
}

inline dialog::dialog_key key_of(const dialog::dialog_state& d) { return {d.call_id, d.local_tag()}; }

}  // namespace b2b::b2bua::detail
