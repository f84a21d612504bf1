// The part of the configuration the store owns (trunks, users, routes, inbound routes), as the
// JSON documents the admin API reads and writes, and its merge with the configuration file.
#pragma once

#include "b2bua/config.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <yaml-cpp/node/node.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::admin {

/// A document by name (a trunk's `name`, a user's `username`).
struct named_document {
    std::string name;
    boost::json::object body;

    bool operator==(const named_document&) const = default;
};

/// Trunks, users, routes and inbound routes as documents whose keys are the configuration
/// file's (README: upstream.trunks[], downstream.users[], routes[], inbound_routes[]), so one
/// parser validates both, and an export is a configuration file again.
struct document_set {
    std::vector<named_document> trunks;  ///< in configuration order
    std::vector<named_document> users;
    boost::json::array routes;
    boost::json::array inbound_routes;

    named_document* find_trunk(std::string_view name);
    named_document* find_user(std::string_view name);

    /// The documents of a configuration file's root.
    static document_set from_config(const YAML::Node& root);
    /// `base` (the configuration file's root) with these documents in place of its sections.
    YAML::Node merge_into(const YAML::Node& base) const;

    bool operator==(const document_set&) const = default;
};

/// What a validation found wrong: `field` as the configuration names it ("uri", or
/// "upstream.trunks[2].uri" when no single document is meant) and the problem.
struct validation_error {
    std::string field;
    std::string message;
};

/// Parses `base` merged with `docs` as one configuration: everything is checked together (a
/// route naming a trunk that does not exist, a user's HA1...). `trunk`/`user`: the document
/// being changed, so that an error inside it names its own field ("uri") rather than its place
/// in the file.
struct validation {
    std::optional<b2bua::config> config;
    std::optional<validation_error> error;
};
validation validate(const YAML::Node& base, const document_set& docs, std::string_view trunk = {},
                    std::string_view user = {});

/// The configuration file's YAML root (the base documents merge into). Throws
/// std::runtime_error naming the file when it cannot be read or parsed.
YAML::Node load_config_root(const std::string& path);

/// JSON <-> YAML for documents. YAML scalars become JSON numbers or booleans when written
/// plainly as such, strings otherwise (a quoted "49" stays a string).
boost::json::value to_json(const YAML::Node& node);
YAML::Node to_yaml(const boost::json::value& value);

/// RFC 7396 JSON merge patch: `patch`'s members replace `target`'s, null removes one.
void merge_patch(boost::json::object& target, const boost::json::object& patch);

}  // namespace b2b::admin
