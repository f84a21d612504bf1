// libFuzzer target: every JSON body the admin API parses (README "The admin API"), through the
// entry points its handlers use: detail::object_body (JSON, an object), the RFC 7396 merge
// patch, and admin::validate (the documents merged into the configuration file's root and
// parsed as one configuration, the credential store's checks included).
//
// The first octet chooses the operation, the rest is the body:
//   0 POST /trunks            1 PUT /trunks/carrier      2 PATCH /trunks/carrier
//   3 PUT /trunks/fresh       4 POST /users              5 PUT /users/pbxuser
//   6 PATCH /users/pbxuser    7 PUT /routes              8 PUT /inbound-routes
//   9 PUT /log-level
// The steps after the body is read are the handlers' (admin_api::add_document,
// replace_document, tables, log_level in admin/admin_api.cpp and admin_resources.cpp), minus
// the store and the SIP loop.
//
// Invariants: validation either yields a configuration or an error naming a field and a
// message; a document set that validates serializes to JSON that parses back equal.
#include "admin/detail/api_request.hpp"
#include "admin/documents.hpp"
#include "b2bua/config.hpp"
#include "fuzz/fuzz_check.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace json = boost::json;
using namespace b2b::admin;

namespace {

// A configuration file's root like the e2e cases' (tests/e2e), with every kind of document.
constexpr const char* base_yaml = R"(
sip:
  listen: [ "udp://127.0.0.1:5070" ]
downstream:
  realm: pbx.local
  users:
    - { username: pbxuser, password: pbxpass }
upstream:
  trunks:
    - { name: carrier, uri: "sip:127.0.0.2:5060", username: trunkuser, password: trunkpass }
routes:
  - { prefix: "", trunk: carrier }
  - { prefix: "0049", trunk: carrier, strip: 4, prepend: "+49" }
inbound_routes:
  - { prefix: "+4930", to: "sip:127.0.0.1:5080", strip: 3, prepend: "0" }
)";

struct fixture {
    YAML::Node base = YAML::Load(base_yaml);
    document_set docs = document_set::from_config(base);
};

const fixture& the_fixture() {
    static const fixture f;
    return f;
}

struct collection {
    std::string_view key;  // "name" or "username"
    std::vector<named_document> document_set::*documents;
    bool is_trunk;
};
constexpr collection trunks{"name", &document_set::trunks, true};
constexpr collection users{"username", &document_set::users, false};

named_document* find(document_set& d, const collection& c, std::string_view name) {
    auto& list = d.*c.documents;
    auto it = std::find_if(list.begin(), list.end(), [&](const named_document& n) { return n.name == name; });
    return it == list.end() ? nullptr : &*it;
}

void check(const YAML::Node& base, const document_set& next, const collection* c, std::string_view name) {
    const auto v = validate(base, next, c != nullptr && c->is_trunk ? name : std::string_view(),
                            c != nullptr && !c->is_trunk ? name : std::string_view());
    B2B_FUZZ_CHECK(v.config.has_value() != v.error.has_value());
    if (v.error) {
        B2B_FUZZ_CHECK(!v.error->message.empty());
        return;
    }
    // What the store would hold: each document as JSON text, read back at the next start.
    for (const auto* list : {&next.trunks, &next.users}) {
        for (const auto& d : *list) {
            boost::system::error_code ec;
            const auto back = json::parse(json::serialize(d.body), ec);
            B2B_FUZZ_CHECK(!ec && back.is_object() && back.as_object() == d.body);
        }
    }
}

void add(const fixture& f, const json::object& body, const collection& c) {
    const auto* n = body.if_contains(c.key);
    if (n == nullptr || !n->is_string() || n->as_string().empty()) return;  // 400
    const std::string name(n->as_string());
    document_set next = f.docs;
    if (find(next, c, name) != nullptr) return;  // 409
    (next.*c.documents).push_back({name, body});
    check(f.base, next, &c, name);
}

void replace(const fixture& f, json::object body, const collection& c, const std::string& name, bool patch) {
    document_set next = f.docs;
    named_document* current = find(next, c, name);
    if (patch && current == nullptr) return;  // 404
    json::object doc;
    if (patch) {
        doc = current->body;
        merge_patch(doc, body);
    } else {
        doc = std::move(body);
    }
    if (const auto* n = doc.if_contains(c.key); n != nullptr && (!n->is_string() || n->as_string() != name)) return;
    doc[c.key] = name;
    if (current == nullptr) {
        (next.*c.documents).push_back({name, doc});
    } else {
        current->body = doc;
    }
    check(f.base, next, &c, name);
}

void table(const fixture& f, const json::object& body, bool inbound) {
    const auto* t = body.if_contains(inbound ? "inbound_routes" : "routes");
    if (t == nullptr || !t->is_array()) return;  // 400
    document_set next = f.docs;
    (inbound ? next.inbound_routes : next.routes) = t->as_array();
    check(f.base, next, nullptr, {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const fixture& f = the_fixture();
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto body = detail::object_body("application/json", text);
    if (body.error) {
        B2B_FUZZ_CHECK(static_cast<int>(body.error->status) == 400);
        return 0;
    }
    switch (data[0] % 10) {
        case 0: add(f, body.object, trunks); break;
        case 1: replace(f, std::move(body.object), trunks, "carrier", false); break;
        case 2: replace(f, std::move(body.object), trunks, "carrier", true); break;
        case 3: replace(f, std::move(body.object), trunks, "fresh", false); break;
        case 4: add(f, body.object, users); break;
        case 5: replace(f, std::move(body.object), users, "pbxuser", false); break;
        case 6: replace(f, std::move(body.object), users, "pbxuser", true); break;
        case 7: table(f, body.object, false); break;
        case 8: table(f, body.object, true); break;
        default: {
            const auto* level = body.object.if_contains("level");
            if (level != nullptr && level->is_string()) (void)b2b::b2bua::valid_log_level(level->as_string());
            break;
        }
    }
    return 0;
}
