// The `cluster` section of the configuration file: several nodes behind a SIP load balancer.
#include "b2bua/detail/config_sections.hpp"
#include "b2bua/detail/yaml_fields.hpp"

#include "sip/message/header.hpp"
#include "sip/message/text.hpp"

#include <algorithm>
#include <cctype>

namespace b2b::b2bua::detail {

namespace {

// RFC 3261 §25.1: a header name is a token.
bool is_token(std::string_view s) {
    static constexpr std::string_view marks = "-.!%*_+`'~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) != 0 || marks.find(ch) != std::string_view::npos;
    });
}

/// An extension header's name (RFC 3261 token): one the stack reads for itself (Via,
/// Contact...) cannot carry something else.
std::string extension_header(const YAML::Node& n, const std::string& field) {
    auto name = non_empty(n, field);
    if (!is_token(name)) fail(field, "'" + name + "' is not a header name (RFC 3261 token)");
    if (sip::header_id_from_name(name) != sip::header_id::other) fail(field, "'" + name + "' is a SIP header of its own");
    return name;
}

}  // namespace

// cluster:
//   dispatchers: [127.0.0.10/32]       # required: the load balancers in front
//   source_header: X-Source-Address    # where they write the original source
//   final_header: X-Cluster-Final      # on a failure the far end caused: do not try another node
//   contact: "sbc.example.com:5060"    # the balancer, in the Contacts registered with trunks
//   node_id: node-a                    # required with redis
//   redis: "127.0.0.1:6379"            # shared bans, admin changes, trunk registration owners
//   redis_password: ...
//   lease_s: 10
void parse_cluster(const YAML::Node& n, config& c) {
    expect_map(n, "cluster");
    only_keys(n, "cluster",
              {"dispatchers", "source_header", "final_header", "contact", "node_id", "redis", "redis_password", "lease_s"});
    auto& k = c.cluster;
    if (!given(n["dispatchers"])) fail("cluster.dispatchers", "is required: the networks of the load balancers in front");
    k.dispatchers = network_list(n["dispatchers"], "cluster.dispatchers");
    if (k.dispatchers.empty()) fail("cluster.dispatchers", "must list at least one network");
    if (given(n["source_header"])) k.source_header = extension_header(n["source_header"], "cluster.source_header");
    if (given(n["final_header"])) k.final_header = extension_header(n["final_header"], "cluster.final_header");
    if (sip::iequals(k.source_header, k.final_header)) {
        fail("cluster.final_header", "'" + k.final_header + "' is cluster.source_header already");
    }
    if (given(n["contact"])) k.contact = advertised_host_port(n["contact"], "cluster.contact");
    if (given(n["redis"])) k.redis = host_port(non_empty(n["redis"], "cluster.redis"), "cluster.redis");
    if (given(n["redis_password"])) k.redis_password = non_empty(n["redis_password"], "cluster.redis_password");
    if (given(n["lease_s"])) k.lease = std::chrono::seconds(integer(n["lease_s"], "cluster.lease_s", 3, 300));
    if (given(n["node_id"])) {
        k.node_id = non_empty(n["node_id"], "cluster.node_id");
        const bool ok = k.node_id.size() <= 64 && std::all_of(k.node_id.begin(), k.node_id.end(), [](char ch) {
                            return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_' || ch == '.';
                        });
        if (!ok) fail("cluster.node_id", "'" + k.node_id + "' must be 1-64 letters, digits, '-', '_' or '.'");
    }
    if (k.redis && k.node_id.empty()) fail("cluster.node_id", "is required with cluster.redis: each node names itself");
    // A PBX whose next request lands on another node (after a failover) answers that node's
    // challenge with a nonce another node issued: only a shared key lets it be verified
    // (stale=true instead of a refusal).
    if (c.downstream.nonce_secret.empty()) {
        fail("downstream.nonce_secret", "is required with cluster: every node must verify the nonces the others issue");
    }
}

}  // namespace b2b::b2bua::detail
