// Documents of the store-owned configuration, and their validation through the config parser.
#include "admin/documents.hpp"

#include "b2bua/downstream_auth.hpp"

#include <boost/json/serialize.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>

namespace b2b::admin {

namespace json = boost::json;

named_document* document_set::find_trunk(std::string_view name) {
    const auto it = std::find_if(trunks.begin(), trunks.end(), [&](const named_document& d) { return d.name == name; });
    return it == trunks.end() ? nullptr : &*it;
}

named_document* document_set::find_user(std::string_view name) {
    const auto it = std::find_if(users.begin(), users.end(), [&](const named_document& d) { return d.name == name; });
    return it == users.end() ? nullptr : &*it;
}

namespace {

std::vector<named_document> named(const YAML::Node& list, const char* key) {
    std::vector<named_document> out;
    if (!list || !list.IsSequence()) return out;
    for (const auto& item : list) {
        auto v = to_json(item);
        if (!v.is_object()) continue;
        named_document d;
        d.body = std::move(v.as_object());
        if (const auto* n = d.body.if_contains(key); n != nullptr && n->is_string()) d.name = std::string(n->as_string());
        out.push_back(std::move(d));
    }
    return out;
}

YAML::Node sequence(const std::vector<named_document>& docs) {
    YAML::Node seq(YAML::NodeType::Sequence);
    for (const auto& d : docs) seq.push_back(to_yaml(d.body));
    return seq;
}

// "upstream.trunks[2].uri: problem" -> {"upstream.trunks[2].uri", "problem"}.
validation_error split(std::string_view what) {
    const auto colon = what.find(": ");
    if (colon == std::string_view::npos) return {"", std::string(what)};
    return {std::string(what.substr(0, colon)), std::string(what.substr(colon + 2))};
}

// An error inside list `prefix` item `index` names the field within the item.
void localise(validation_error& e, std::string_view prefix, std::size_t index) {
    const std::string item = std::string(prefix) + "[" + std::to_string(index) + "]";
    if (e.field == item) {
        e.field.clear();
    } else if (e.field.starts_with(item + ".")) {
        e.field = e.field.substr(item.size() + 1);
    }
}

bool plain_integer(const std::string& s) {
    if (s.empty() || s.size() > 18) return false;
    std::size_t i = s[0] == '-' ? 1 : 0;
    if (i == s.size()) return false;
    // "007" is not written as a number: keep such text (a number prefix) a string.
    if (s[i] == '0' && s.size() > i + 1) return false;
    return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(i), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

document_set document_set::from_config(const YAML::Node& root) {
    document_set d;
    if (const auto& up = root["upstream"]; up && up.IsMap()) d.trunks = named(up["trunks"], "name");
    if (const auto& down = root["downstream"]; down && down.IsMap()) d.users = named(down["users"], "username");
    if (const auto& r = root["routes"]; r && r.IsSequence()) d.routes = to_json(r).as_array();
    if (const auto& r = root["inbound_routes"]; r && r.IsSequence()) d.inbound_routes = to_json(r).as_array();
    return d;
}

YAML::Node document_set::merge_into(const YAML::Node& base) const {
    YAML::Node root = YAML::Clone(base);
    if (!root.IsMap()) root = YAML::Node(YAML::NodeType::Map);
    if (!root["upstream"] || !root["upstream"].IsMap()) root["upstream"] = YAML::Node(YAML::NodeType::Map);
    root["upstream"]["trunks"] = sequence(trunks);
    if (!root["downstream"] || !root["downstream"].IsMap()) root["downstream"] = YAML::Node(YAML::NodeType::Map);
    if (users.empty()) {
        root["downstream"].remove("users");
    } else {
        root["downstream"]["users"] = sequence(users);
    }
    root["routes"] = to_yaml(json::value(routes));
    if (inbound_routes.empty()) {
        root.remove("inbound_routes");
    } else {
        root["inbound_routes"] = to_yaml(json::value(inbound_routes));
    }
    return root;
}

validation validate(const YAML::Node& base, const document_set& docs, std::string_view trunk, std::string_view user) {
    validation v;
    YAML::Emitter out;
    out << docs.merge_into(base);
    try {
        v.config = b2bua::parse_config(out.c_str());
        // The credential store checks users more deeply (HA1 lengths) than the parser.
        b2bua::downstream_auth probe(v.config->downstream);
    } catch (const std::exception& e) {
        v.config.reset();
        v.error = split(e.what());
    }
    if (v.error) {
        for (std::size_t i = 0; i < docs.trunks.size(); ++i) {
            if (docs.trunks[i].name == trunk) localise(*v.error, "upstream.trunks", i);
        }
        for (std::size_t i = 0; i < docs.users.size(); ++i) {
            if (docs.users[i].name == user) localise(*v.error, "downstream.users", i);
        }
    }
    return v;
}

YAML::Node load_config_root(const std::string& path) {
    try {
        return YAML::LoadFile(path);
    } catch (const YAML::Exception& e) {
        throw std::runtime_error(path + ": " + e.what());
    }
}

json::value to_json(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map: {
            json::object o;
            for (const auto& kv : node) o[kv.first.as<std::string>()] = to_json(kv.second);
            return o;
        }
        case YAML::NodeType::Sequence: {
            json::array a;
            for (const auto& item : node) a.push_back(to_json(item));
            return a;
        }
        case YAML::NodeType::Scalar: {
            const auto text = node.as<std::string>();
            // A quoted scalar (tag "!") is a string whatever it looks like.
            if (node.Tag() != "!") {
                if (text == "true") return true;
                if (text == "false") return false;
                if (plain_integer(text)) {
                    long long n = 0;
                    std::from_chars(text.data(), text.data() + text.size(), n);
                    return n;
                }
            }
            return json::string(text);
        }
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined: return nullptr;
    }
    return nullptr;
}

YAML::Node to_yaml(const json::value& value) {
    switch (value.kind()) {
        case json::kind::object: {
            YAML::Node map(YAML::NodeType::Map);
            for (const auto& kv : value.as_object()) map[std::string(kv.key())] = to_yaml(kv.value());
            return map;
        }
        case json::kind::array: {
            YAML::Node seq(YAML::NodeType::Sequence);
            for (const auto& item : value.as_array()) seq.push_back(to_yaml(item));
            return seq;
        }
        case json::kind::string: return YAML::Node(std::string(value.as_string()));
        case json::kind::int64: return YAML::Node(std::to_string(value.as_int64()));
        case json::kind::uint64: return YAML::Node(std::to_string(value.as_uint64()));
        case json::kind::double_: return YAML::Node(json::serialize(value));
        case json::kind::bool_: return YAML::Node(value.as_bool() ? "true" : "false");
        case json::kind::null: return YAML::Node(YAML::NodeType::Null);
    }
    return YAML::Node();
}

void merge_patch(json::object& target, const json::object& patch) {
    for (const auto& kv : patch) {
        if (kv.value().is_null()) {
            target.erase(kv.key());
        } else if (kv.value().is_object() && target.contains(kv.key()) && target.at(kv.key()).is_object()) {
            merge_patch(target.at(kv.key()).as_object(), kv.value().as_object());
        } else {
            target[kv.key()] = kv.value();
        }
    }
}

}  // namespace b2b::admin
