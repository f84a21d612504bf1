// Sections of the configuration file parsed outside config.cpp, one file each.
#pragma once

#include "b2bua/config.hpp"

#include <yaml-cpp/yaml.h>

namespace b2b::b2bua::detail {

/// `security:` into c.security (config_security.cpp).
void parse_security(const YAML::Node& n, config& c);
/// `overload:` into c.overload (config_security.cpp).
void parse_overload(const YAML::Node& n, config& c);
/// `cluster:` into c.cluster (config_cluster.cpp); after `downstream`, whose nonce_secret it needs.
void parse_cluster(const YAML::Node& n, config& c);

}  // namespace b2b::b2bua::detail
