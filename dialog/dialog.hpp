// One leg's dialog state (RFC 3261 §12) and the requests and responses we write on a leg.
#pragma once

#include "sip/message/message.hpp"
#include "sip/message/outbound_request.hpp"
#include "sip/transport/flow.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::dialog {

/// What we put in our own Via and Contact on one leg: our address, never the other leg's.
struct local_identity {
    sip::transport_kind transport = sip::transport_kind::udp;
    bool sips = false;      ///< a sips: Contact (§8.1.1.8)
    std::string host_port;  ///< "127.0.0.1:5070": Via sent-by and Contact host
    /// The full Contact value, e.g. "<sip:b2bua@127.0.0.1:5070>". Written when a message needs
    /// it rather than kept: every dialog has an identity, and few send a request in hours.
    std::string contact() const;
};

/// Builds our identity for a flow: the flow's local address and port, or what we advertise
/// (`sip.advertise`: "host", "host:port", "[IPv6]" or "[IPv6]:port"; without a port, the flow's
/// local port goes with it); `;transport=tcp` (`tls`) in the Contact for TCP (TLS); a sips:
/// Contact when `sips` (the request's Request-URI is sips:, RFC 3261 §8.1.1.8).
local_identity make_identity(const sip::flow& f, std::string_view advertised, bool sips = false);

/// The state of one dialog as seen by our side of a leg (RFC 3261 §12.1). Header values are
/// kept whole ("<sip:1000@host>;tag=abc") so in-dialog requests copy them as they are.
struct dialog_state {
    std::string call_id;
    std::string local;          ///< our From value in requests we send, with our tag
    std::string remote;         ///< the To value in requests we send, with the peer's tag
    std::string remote_target;  ///< Request-URI of in-dialog requests (the peer's Contact)
    std::vector<std::string> route_set;  ///< Route values, in the order they are sent
    std::uint32_t local_cseq = 0;        ///< last CSeq number we used
    /// Last CSeq number the peer used in this dialog; empty until its first request when we
    /// are the UAC (§12.1.2).
    std::optional<std::uint32_t> remote_cseq;
    sip::flow flow;                      ///< where in-dialog requests are sent
    /// Over a stream transport, where a new connection goes when `flow`'s is gone (RFC 3261
    /// §18.1.1): the next hop of the first Route or the remote target (§12.2.1.1). Empty over
    /// UDP, and where none may be opened: a peer behind NAT, reachable only over the
    /// connection it opened (RFC 5626 §5.3), or a target that names no address.
    std::optional<sip::endpoint> reconnect;
    local_identity self;

    /// The dialog's tags (§12): the tag parameters of `local` and `remote`, read from them
    /// rather than kept a second time (a held call is two dialog states, for hours). Empty
    /// while there is none: `remote` before the answer on our side as UAC (§12.1.2), or a
    /// peer that sent no From tag (RFC 2543).
    std::string_view local_tag() const noexcept { return tag_of(local); }
    std::string_view remote_tag() const noexcept { return tag_of(remote); }

    /// The tag parameter of a From or To value; empty when it has none or does not parse.
    static std::string_view tag_of(std::string_view value) noexcept;
};

/// Dialog state of the UAS side (leg A) once we answer `invite` with tag `local_tag`
/// (§12.1.1): route set = Record-Route in order, remote target = the INVITE's Contact.
/// Over a stream, a new connection may go to the first Route, or to the Contact when it names
/// the address the INVITE came from (a Contact naming another address is behind NAT).
dialog_state uas_dialog(const sip::message& invite, std::string_view local_tag, const sip::flow& f,
                        local_identity self);

/// Completes the UAC side (leg B) from a response that creates or confirms the dialog
/// (§12.1.2): remote tag and To from the response, route set = Record-Route reversed,
/// remote target = the response's Contact.
void update_uac_dialog(dialog_state& d, const sip::message& response);

/// Target refresh (§12.2, libre sip_dialog_update): a re-INVITE or UPDATE we accepted, or the
/// 2xx to ours, carries the peer's new Contact, which becomes the remote target. The route set
/// never changes after the dialog is made. Returns false (changing nothing) without a Contact.
bool refresh_target(dialog_state& d, const sip::message& request_or_response);

/// §12.2.2: a request in the dialog must not carry a CSeq number below the last one the peer used
/// (ACK and CANCEL reuse their INVITE's and are not checked). Records it and returns true, or
/// returns false for an out-of-order request, which gets 500.
bool accept_remote_cseq(dialog_state& d, const sip::message& request);

/// Everything a request we originate carries. Views must stay valid during `write_request`.
struct outgoing_request {
    std::string_view method;
    std::string_view request_uri;
    std::string_view from;     ///< whole From value, with tag
    std::string_view to;       ///< whole To value (with tag inside a dialog)
    std::string_view call_id;
    std::uint32_t cseq = 1;
    std::string_view cseq_method;  ///< empty = `method` (an ACK for INVITE uses "ACK")
    std::string_view branch;
    unsigned max_forwards = 70;
    const std::vector<std::string>* route_set = nullptr;
    bool with_contact = true;
    std::vector<std::pair<std::string_view, std::string_view>> extra_headers;
    std::string_view body;
    std::string_view content_type;
};

/// Builds a request with our single Via (with rport, RFC 3581) and our Contact, as the
/// transaction layer takes it (written once, never parsed again).
sip::outbound_request make_request(const outgoing_request& r, const local_identity& self);

/// An in-dialog request on `d`: bumps `d.local_cseq` (unless `cseq_override` is non-zero, as
/// for the ACK of an INVITE) and builds it.
sip::outbound_request make_in_dialog(dialog_state& d, std::string_view method, std::string_view branch,
                            std::uint32_t cseq_override = 0, std::string_view body = {},
                            std::string_view content_type = {},
                            std::vector<std::pair<std::string_view, std::string_view>> extra = {});

/// The next hop for a request to `target_uri` (or the first route): its host when that is
/// an IP literal, with its port (default 5060), else `fallback`.
sip::endpoint next_hop(std::string_view target_uri, const sip::endpoint& fallback);

/// Points `d`'s flow at where its in-dialog requests go (§12.2.1.1): the first Route, or the
/// far end's target, when that is an address (`fallback` otherwise). Over a stream transport
/// the flow stays on its connection, and that hop becomes `d.reconnect`, for when it is gone.
void aim_in_dialog(dialog_state& d, const sip::endpoint& fallback);

}  // namespace b2b::dialog
