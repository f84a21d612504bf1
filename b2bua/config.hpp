// The B2BUA configuration file (YAML): its model and its loader.
#pragma once

#include "auth/ip_network.hpp"
#include "registration/registrar.hpp"
#include "routing/inbound.hpp"
#include "routing/route_table.hpp"
#include "routing/trunk.hpp"
#include "security/ban_list.hpp"
#include "sip/transport/flow.hpp"
#include "sip/transport/tls.hpp"

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::b2bua {

/// A configuration problem. `what()` names the field and the problem, e.g.
/// "upstream.trunks[0].uri: 'sip:' is not a valid SIP URI (missing host)".
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct listen_address {
    sip::transport_kind transport = sip::transport_kind::udp;
    sip::endpoint address;
};

/// A PBX account we accept (downstream). Either a password, or precomputed HA1 values for the
/// downstream realm (`ha1` is MD5, `ha1_sha256` SHA-256), so no clear password need be stored.
struct user_account {
    std::string username;
    std::string password;
    std::string ha1_md5;
    std::string ha1_sha256;
    /// When not empty, the account may be used only from these networks (source_not_allowed).
    std::vector<auth::ip_network> allowed_sources;
    /// Calls of this account up at once, and new calls a second; 0 = no limit. Beyond either,
    /// a new call gets 503 (emergency numbers always pass).
    std::size_t max_calls = 0;
    std::uint32_t max_cps = 0;
};

struct config {
    struct sip_section {
        std::vector<listen_address> listen;
        /// `sip.advertise`: "host[:port]" ("[IPv6]" bracketed) written in every Via sent-by and
        /// Contact of ours instead of the flow's local address; without a port, the flow's local
        /// port. Empty = the flow's local address and port.
        std::string advertised_host;
        std::chrono::milliseconds t1{500};
        std::chrono::milliseconds t2{4000};
        std::chrono::milliseconds t4{5000};
        std::size_t max_message_size = 65535;
        /// `sip.workers`: event loops, each on a thread of its own with its own share of the
        /// calls (README, "Workers"). A configuration file without it gets one per core the
        /// process may run on; a config made in code, one.
        std::size_t workers = 1;
        /// A TCP connection with no message and no keep-alive for this long is closed.
        std::chrono::seconds tcp_idle_timeout{600};
        /// Stream connections accepted from peers, in all and from one source address (0 = no
        /// per-source limit), and opened by us: budgets apart, so a flood of inbound connections
        /// cannot stop calls from reaching a trunk.
        std::size_t tcp_max_connections = 4096;
        std::size_t tcp_max_connections_per_source = 64;
        std::size_t tcp_max_outbound_connections = 1024;
        /// `sip.tls`: our certificate and key (required with a tls:// listener) and the CAs
        /// providers' certificates must chain to. The files are read at start and on SIGHUP,
        /// not here, so a configuration can be checked away from its certificates.
        sip::tls_settings tls;
    } sip;

    struct downstream_section {
        std::string realm;
        std::vector<user_account> users;
        /// 407 (Proxy-Authenticate, the default: we act as the PBX's outbound proxy) or 401.
        int challenge_status = 407;
        /// Challenge algorithms, in offer order (RFC 7616 §3.7: most preferred first). MD5 only
        /// by default: baresip 1.0.0 and SIPp 3.6.1 abandon a call silently when SHA-256 is
        /// offered at all.
        std::vector<std::string> algorithms{"MD5"};
        /// Offers for PBXs from given networks: the first rule whose sources contain the
        /// request's source address replaces `algorithms`.
        struct algorithms_rule {
            std::vector<auth::ip_network> sources;
            std::vector<std::string> algorithms;
        };
        std::vector<algorithms_rule> algorithms_for;
        std::chrono::seconds nonce_ttl{300};
        /// Nonces whose nonce counts are tracked (replay protection); older ones get stale=true.
        std::size_t nonce_table_size = 65536;
        /// HMAC key for nonces; empty = random at each start (nonces die with the process).
        std::string nonce_secret;
        /// When not empty, only PBXs in these networks may send requests (others get 403 before
        /// any challenge); trunks are recognised first and are not subject to it.
        std::vector<auth::ip_network> allowed_sources;
        /// The PBXs' registrations with us (RFC 3261 §10.3).
        registration::registrar_policy registrar;
        /// A CRLF keep-alive this often to each binding behind NAT; 0 = none.
        std::chrono::seconds registrar_keepalive{30};
    } downstream;

    struct upstream_section {
        std::vector<routing::trunk> trunks;
    } upstream;

    /// DNS for trunks whose uri names a host (RFC 3263).
    struct dns_section {
        /// Name servers (address:port); empty = the system's (/etc/resolv.conf).
        std::vector<sip::endpoint> servers;
    } dns;

    std::vector<routing::route> routes;
    /// Calls from trunks, by dialled number, to a PBX. None: calls from trunks get 404.
    std::vector<routing::inbound_route> inbound_routes;

    /// The one HTTP server: /metrics, /healthz, /readyz and the admin API. On by default at
    /// 127.0.0.1:9090; `http: { listen: "" }` turns it off.
    struct http_section {
        std::optional<sip::endpoint> listen = sip::endpoint{boost::asio::ip::make_address_v4("127.0.0.1"), 9090};
        /// Connections open at a time; more are closed at once (counted as max_connections).
        std::size_t max_connections = 256;
        /// Connections open at a time from one client address; 0 = no such limit.
        std::size_t max_connections_per_source = 16;
        /// A request's header section must arrive within this (slow clients are cut).
        std::chrono::seconds header_timeout{10};
        /// A request's body must arrive within this after its header section.
        std::chrono::seconds body_timeout{30};
    } http;

    /// The REST admin API (/api/v1/*). Off unless a token is configured: `token`, else the
    /// contents of `token_file`, else the environment variable B2BUA_ADMIN_TOKEN (read at start).
    struct admin_section {
        std::string token;
        std::string token_file;
        /// HTTPS for the HTTP server (certificate and key files, PEM); empty = plain HTTP.
        sip::tls_settings tls;
        /// Authentication failures kept for GET /api/v1/auth/failures (a ring buffer).
        std::size_t failures_kept = 1000;
    } admin;

    /// Where the embedded store lives (created if missing): what the admin API changes, the
    /// registrar's bindings, call detail records, the audit log.
    std::string data_dir = "/var/lib/b2bua";

    /// Call detail records: one per call, kept in the store, optionally appended to a file.
    struct cdrs_section {
        std::chrono::hours keep{24 * 90};
        /// JSON lines, one record per line, appended as calls end; empty = none.
        std::string file;
    } cdrs;

    /// What keeps attackers out (README "Security"). Trunks' sources and `trusted` networks are
    /// never banned nor rate-limited.
    struct security_section {
        /// Networks exempt from bans and the rate limit: where a busy PBX sits.
        std::vector<auth::ip_network> trusted;
        /// Brute force (security::ban_policy): failed digest answers from one source, or for one
        /// username, ban the source (never the username: that would lock a PBX out), growing.
        /// A banned source gets no answer (UDP) or a closed connection (TCP, TLS), and costs no
        /// hashing.
        security::ban_policy ban;
        /// Pike-style flood control: requests a second from one source address, checked before
        /// anything past the start line is parsed; over it, dropped and counted. 0 = off.
        std::uint32_t max_requests_per_second = 200;
        /// Source addresses whose request rate is tracked; beyond it the least recent goes.
        std::size_t rate_limit_sources = 100000;
        /// User-Agent substrings (case-insensitive) of scanners: their requests are dropped
        /// without an answer, and counted.
        std::vector<std::string> scanner_user_agents{"friendly-scanner", "sipvicious", "sipcli", "VaxSIPUserAgent",
                                                     "sip-scan", "iWar", "sundayddr", "pplsip"};
        /// The Server / User-Agent header we send; empty (the default) sends none, so an OPTIONS
        /// from a stranger learns neither product nor version.
        std::string server_header;
        /// Accept a digest answer without qop (RFC 2069) when we offered qop=auth. Off: such an
        /// answer has no nonce count, so replay protection rests on single use only; some old
        /// devices need it.
        bool allow_rfc2069 = false;
        /// A call to a number (the Request-URI user part as dialled, unescaped) starting with one
        /// of these gets 403: premium and international ranges not sold. Write each form a PBX
        /// may dial ("+882", "00882").
        std::vector<std::string> blocked_prefixes;
        /// Numbers that always pass limits, bans of their own source and overload admission.
        std::vector<std::string> emergency_numbers;
        /// Authentication failures logged per source: after the first few in an interval, one
        /// summary line per source per interval, so an attack cannot fill the disk.
        std::chrono::seconds failure_log_interval{60};
    } security;

    /// Admission under overload, and the bounds of what an attacker could make us hold.
    struct overload_section {
        /// New INVITEs get 503 with Retry-After while the SIP event loop runs this late (a timer
        /// due now fires this much later); in-dialog requests, BYE above all, keep flowing.
        std::chrono::milliseconds max_loop_delay{100};
        /// The Retry-After of those 503s.
        std::chrono::seconds retry_after{5};
        /// Transactions held at once; beyond it, new requests get 503 (INVITE) or are dropped.
        std::size_t max_transactions = 200000;
    } overload;

    struct log_section {
        std::string level = "info";
    } log;

    struct calls_section {
        /// A call not answered within this time is cancelled upstream and gets 408 (Timer C).
        std::chrono::seconds max_ringing{180};
        /// Calls beyond this many are refused with 503; 0 = no limit.
        std::size_t max_calls = 0;
        /// A confirmed call lasting this long is ended with BYE on both legs, so a lost BYE
        /// cannot hold capacity for ever; 0 = no limit.
        std::chrono::seconds max_duration{4 * 3600};
        /// On SIGTERM, calls in progress may go on this long (new ones get 503) before they are
        /// ended with BYE on both legs; 0 = end them at once.
        std::chrono::seconds drain{30};
        /// RFC 4028: the session interval we ask for on a leg whose peer asks for none (the
        /// PBX's own value goes on to the trunk when it asks); 0 = we never ask, and only honour
        /// what a peer asks for.
        std::chrono::seconds session_expires{1800};
        /// The shortest session interval we accept (our Min-SE, at least 90): a peer asking
        /// for less gets 422 (§9), or a longer interval when it cannot read a 422.
        std::chrono::seconds min_se{90};
    } calls;

    /// `cluster`: this node is one of several behind a SIP load balancer (README "Scaling out").
    /// Without the section (no dispatchers), every request is its sender's own.
    struct cluster_section {
        /// The load balancers' networks. A request from one of them is the request of the
        /// address in `source_header` for everything per source (bans, the flood limit, nonces,
        /// allowed_sources, trunk identification, the failure log, NAT handling); a request
        /// without it is the balancer's own (its OPTIONS probes: answered, never screened).
        std::vector<auth::ip_network> dispatchers;
        std::string source_header = "X-Source-Address";
        /// Added to a 408 or 5xx we answer a forwarded INVITE with when the far end caused it
        /// (a trunk refused, timed out or refused our credentials): every other node would do
        /// the same, so the balancer passes it on instead of trying the next node (the shipped
        /// Kamailio config removes it).
        std::string final_header = "X-Cluster-Final";
        /// host[:port] in the Contact of our registrations with trunks: the balancer's, so a
        /// provider's calls reach whichever node is alive, not only the one that registered
        /// (the Contact's user part names the trunk). Empty = this node's own, as the Via.
        std::string contact;
        /// This node's name in the cluster (unique): leases and shared events carry it.
        std::string node_id;
        /// The Redis the nodes share (bans, admin changes, who registers each trunk); none =
        /// nothing is shared. Never waited for on the SIP path.
        std::optional<sip::endpoint> redis;
        std::string redis_password;
        /// How long a node's claim to register a trunk lasts unless renewed: a survivor takes
        /// over a dead node's trunks within about this.
        std::chrono::milliseconds lease{10000};
    } cluster;
};

/// Parses and validates a configuration document. Throws `config_error` naming the field.
/// Unknown keys are errors too: a typo must not silently fall back to a default.
config parse_config(std::string_view yaml_text);

/// Reads `path` and parses it. Throws `config_error` (file unreadable, or invalid).
config load_config(const std::string& path);

/// The names log levels may take: trace, debug, info, warn, error, critical, off.
bool valid_log_level(std::string_view level) noexcept;

}  // namespace b2b::b2bua
