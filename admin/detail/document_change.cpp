// Making one document change to a document set, and writing it to the store.
#include "admin/detail/document_change.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace b2b::admin::detail {

namespace {

// The named collection a kind keeps, and the member that names its documents.
struct named_kind {
    std::vector<named_document> document_set::*documents;
    std::string_view name_member;
};

std::optional<named_kind> named(std::string_view kind) {
    if (kind == kinds::trunk) return named_kind{&document_set::trunks, "name"};
    if (kind == kinds::user) return named_kind{&document_set::users, "username"};
    return std::nullopt;
}

}  // namespace

boost::system::result<document_set, std::string> with_change(document_set docs, const document_change& change) {
    if (const auto n = named(change.kind)) {
        auto& list = docs.*n->documents;
        const auto it =
            std::find_if(list.begin(), list.end(), [&](const named_document& d) { return d.name == change.key; });
        if (change.is_removal()) {
            if (it != list.end()) list.erase(it);
            return docs;
        }
        if (change.key.empty()) return std::string("a ") + change.kind + " needs a name";
        if (!change.document->is_object()) return std::string("a ") + change.kind + " must be a JSON object";
        const auto& body = change.document->as_object();
        // The document names itself: a key that disagrees would store one name and run another.
        const auto* own = body.if_contains(n->name_member);
        if (own == nullptr || !own->is_string() || own->as_string() != change.key) {
            return std::string("the ") + change.kind + "'s " + std::string(n->name_member) + " is not its key '" +
                   change.key + "'";
        }
        if (it != list.end()) {
            it->body = body;
        } else {
            list.push_back({change.key, body});
        }
        return docs;
    }
    const bool routes = change.kind == kinds::routes;
    if (!routes && change.kind != kinds::inbound_routes) return "no such kind of document: '" + change.kind + "'";
    if (change.key != whole_document) return change.kind + " is one document: its key must be empty";
    if (change.is_removal()) return change.kind + " is replaced, never removed";
    if (!change.document->is_array()) return change.kind + " must be a JSON array (the whole table)";
    (routes ? docs.routes : docs.inbound_routes) = change.document->as_array();
    return docs;
}

void add_to(change_set& changes, const document_change& change) {
    if (change.is_removal()) {
        changes.remove(change.kind, change.key);
    } else {
        changes.put(change.kind, change.key, boost::json::serialize(*change.document));
    }
}

}  // namespace b2b::admin::detail
