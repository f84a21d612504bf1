// A SIP trunk: where calls go upstream and the credentials the provider expects.
#pragma once

#include "auth/ip_network.hpp"
#include "sip/transport/flow.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::routing {

/// What happens to one piece of the caller's identity on its way to a peer (RFC 3325).
enum class identity_policy : std::uint8_t {
    pass,   ///< what the caller sent crosses (its user part; the host becomes ours)
    strip,  ///< nothing is sent
    set,    ///< we write it ourselves, whatever the caller sent
};

/// Which sources the trunk's own `uri` stands for when a request arrives (routing::trunk_identifier).
enum class source_identification : std::uint8_t {
    address,       ///< its address, any port (providers send from other ports than they listen on)
    address_port,  ///< its address and port only (a PBX shares the trunk's address, as in a lab)
    none,          ///< nothing: only `inbound_from` entries (or no calls from this trunk at all)
};

/// How calls are spread over a trunk and when it is passed over (failover, limits, health).
struct trunk_selection_policy {
    std::size_t max_calls = 0;  ///< calls at a time on this trunk (ringing or up); 0 = no limit
    std::uint32_t max_cps = 0;  ///< new calls per second; 0 = no limit
    /// No provisional response within this time: the INVITE is given up and the next trunk
    /// tried (Timer B's 64*T1 = 32 s is far too long for a caller).
    std::chrono::milliseconds invite_timeout{4000};
    std::chrono::seconds options_interval{0};  ///< OPTIONS health pings; 0 = none
    unsigned down_after = 3;  ///< failed pings in a row that mark the trunk down
    unsigned up_after = 2;    ///< answered pings in a row that mark it up again

    bool operator==(const trunk_selection_policy&) const = default;
};

/// One provider trunk, as configured. Immutable once built: a change replaces the object.
struct trunk {
    std::string name;             ///< operator's label; also the `trunk` metrics label
    std::string uri;              ///< as configured, e.g. "sip:sip.provider.example:5060;transport=tcp"
    std::string domain;           ///< host[:port] used in the Request-URI and To of leg B
    sip::transport_kind transport = sip::transport_kind::udp;
    /// The uri is sips: (TLS, RFC 3261 §26.2.2): our Request-URI and Contact say sips: too.
    bool sips = false;
    /// The uri's host (a name or an address, without port or brackets): over TLS the name the
    /// provider's certificate must carry, and our SNI (RFC 5922 §4).
    std::string host;
    sip::endpoint address;        ///< where requests are sent, when the uri names an address
    /// The uri's host when it is a name, not an address: `address` is then unset, and the host
    /// is located by DNS at run time (RFC 3263 §4), with `uri_port` (0 = none in the uri) and
    /// `transport` when `uri_transport` (the uri names one); the b2bua keeps its targets.
    std::string dns_host;
    std::uint16_t uri_port = 0;
    bool uri_transport = false;
    std::string username;         ///< digest user name; empty = no credentials
    std::string password;
    std::string from_domain;      ///< host of leg B's From; empty = our own address
    /// Send credentials with the provider's last nonce and the next nc before it challenges
    /// (RFC 7616 §3.4), saving the challenge round trip per call. Off by default: a provider
    /// that answers a reused nonce with 403 instead of a new challenge would fail calls.
    bool reuse_nonce = false;
    /// The From user part we send: empty = the caller's number; set = the account's number,
    /// for providers that accept only their own numbers in From.
    std::string from_user;
    /// P-Asserted-Identity: pass the caller's, strip, or set (`asserted_user`, or else the
    /// From user we send).
    identity_policy asserted_identity = identity_policy::pass;
    std::string asserted_user;
    /// Privacy: pass the caller's, strip, or set ("Privacy: id", RFC 3325 §9.3).
    identity_policy privacy = identity_policy::pass;
    /// Where calls from this trunk come from besides `address` (any port): `inbound_from`
    /// entries, exact address:port or networks (routing::trunk_identifier).
    std::vector<sip::endpoint> inbound_endpoints;
    std::vector<auth::ip_network> inbound_networks;
    source_identification identify_by = source_identification::address;
    trunk_selection_policy selection;
    /// Keep one registration with the provider (RFC 3261 §10.2), at the uri's host:port, as
    /// sip:username@domain; calls the provider sends to the Contact we register are this
    /// trunk's, whatever address they come from.
    bool registers = false;
    std::chrono::seconds register_expires{600};  ///< the interval asked for
    /// Deleted at run time (admin API): kept only for the calls still using it, so their
    /// in-dialog requests find its credentials; no route names it, and it is never matched by
    /// source, pinged or registered.
    bool removed = false;

    bool operator==(const trunk&) const = default;
};

/// A Request-URI at the peer: "sip:[user@]domain", with ";transport=tcp" (or tls) when the peer
/// is reached over TCP (or TLS) (RFC 3263 §4.1: the transport the URI names is the one used);
/// "sips:[user@]domain" for a sips: trunk (RFC 3261 §26.2.2).
inline std::string request_uri_at(const trunk& t, std::string_view user = {}) {
    std::string uri = t.sips ? "sips:" : "sip:";
    if (!user.empty()) {
        uri += user;
        uri += '@';
    }
    uri += t.domain;
    if (!t.sips) uri += sip::transport_param(t.transport);
    return uri;
}

}  // namespace b2b::routing
