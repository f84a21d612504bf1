// Readers of YAML fields for the configuration loader: each names the field in its error.
#pragma once

#include "auth/ip_network.hpp"
#include "sip/transport/flow.hpp"

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::b2bua::detail {

/// Throws config_error "field: problem".
[[noreturn]] void fail(const std::string& field, const std::string& problem);
/// " (line N)" for a node that has a position, else "".
std::string at_line(const YAML::Node& n);
/// Rejects keys that the section does not define: a misspelt key must not be ignored.
void only_keys(const YAML::Node& map, const std::string& field, std::initializer_list<std::string_view> allowed);
/// Whether an optional section was given a value. A section written with nothing under it
/// ("calls:" followed only by comments, as when every example in it is commented out) is
/// YAML null, and means the same as leaving the section out: all defaults.
bool given(const YAML::Node& n);
const YAML::Node& expect_map(const YAML::Node& n, const std::string& field);
std::string scalar(const YAML::Node& n, const std::string& field);
std::string non_empty(const YAML::Node& n, const std::string& field);
/// true or false, nothing else.
bool boolean(const YAML::Node& n, const std::string& field);
/// A decimal integer within [lo, hi].
long long integer(const YAML::Node& n, const std::string& field, long long lo, long long hi);
/// "127.0.0.1:5070", "[::1]:5070" (a port is required).
sip::endpoint host_port(const std::string& text, const std::string& field);
/// A list of scalars, or one scalar as a list of one.
std::vector<std::string> string_list(const YAML::Node& n, const std::string& field);
bool is_hex(std::string_view s);
/// "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128), written canonically.
auth::ip_network network(const std::string& text, const std::string& field);
/// A list of networks, each as `network` reads it.
std::vector<auth::ip_network> network_list(const YAML::Node& n, const std::string& field);
/// host[:port] as written in a Via or Contact (a name, IPv4, or [IPv6]).
std::string advertised_host_port(const YAML::Node& n, const std::string& field);

}  // namespace b2b::b2bua::detail
