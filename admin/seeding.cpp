// Seeding the store from the configuration file, and loading what it owns.
#include "admin/seeding.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace b2b::admin {

namespace json = boost::json;

namespace {

boost::system::result<std::vector<named_document>, std::string> named_list(store& st, std::string_view kind) {
    auto docs = st.list(kind);
    if (!docs) return std::string(docs.error().what());
    std::vector<named_document> out;
    for (const auto& d : *docs) {
        boost::system::error_code ec;
        auto v = json::parse(d.json, ec);
        if (ec || !v.is_object()) return std::string(kind) + " " + d.key + ": the stored document is not a JSON object";
        out.push_back({d.key, std::move(v.as_object())});
    }
    return out;
}

boost::system::result<json::array, std::string> table(store& st, std::string_view kind) {
    auto text = st.get(kind, whole_document);
    if (!text) return std::string(text.error().what());
    if (!*text) return json::array();
    boost::system::error_code ec;
    auto v = json::parse(**text, ec);
    if (ec || !v.is_array()) return std::string(kind) + ": the stored document is not a JSON list";
    return std::move(v.as_array());
}

}  // namespace

boost::system::result<document_set, std::string> load_documents(store& st) {
    document_set d;
    auto trunks = named_list(st, kinds::trunk);
    if (!trunks) return trunks.error();
    d.trunks = std::move(*trunks);
    auto users = named_list(st, kinds::user);
    if (!users) return users.error();
    d.users = std::move(*users);
    auto routes = table(st, kinds::routes);
    if (!routes) return routes.error();
    d.routes = std::move(*routes);
    auto inbound = table(st, kinds::inbound_routes);
    if (!inbound) return inbound.error();
    d.inbound_routes = std::move(*inbound);
    return d;
}

change_set replace_all(const document_set& now, const document_set& docs) {
    change_set c;
    for (const auto& t : now.trunks) {
        if (std::none_of(docs.trunks.begin(), docs.trunks.end(), [&](const named_document& d) { return d.name == t.name; })) {
            c.remove(kinds::trunk, t.name);
        }
    }
    for (const auto& u : now.users) {
        if (std::none_of(docs.users.begin(), docs.users.end(), [&](const named_document& d) { return d.name == u.name; })) {
            c.remove(kinds::user, u.name);
        }
    }
    for (const auto& t : docs.trunks) c.put(kinds::trunk, t.name, json::serialize(t.body));
    for (const auto& u : docs.users) c.put(kinds::user, u.name, json::serialize(u.body));
    c.put(kinds::routes, whole_document, json::serialize(docs.routes));
    c.put(kinds::inbound_routes, whole_document, json::serialize(docs.inbound_routes));
    return c;
}

document_set seed_or_load(store& st, const YAML::Node& file_root) {
    const auto seeded = st.seeded();
    if (!seeded) throw std::runtime_error(std::string("data_dir: ") + seeded.error().what());
    if (!*seeded) {
        auto docs = document_set::from_config(file_root);
        auto changes = replace_all({}, docs);
        changes.mark_seeded = true;
        if (auto w = st.commit(changes); !w) throw std::runtime_error(std::string("data_dir: ") + w.error().what());
        return docs;
    }
    auto docs = load_documents(st);
    if (!docs) throw std::runtime_error("data_dir: " + st.path() + ": " + docs.error());
    return std::move(*docs);
}

std::vector<std::string> differences(const document_set& before, const document_set& after) {
    std::vector<std::string> out;
    const auto compare = [&](const std::vector<named_document>& a, const std::vector<named_document>& b, const char* what) {
        for (const auto& x : a) {
            const auto it = std::find_if(b.begin(), b.end(), [&](const named_document& d) { return d.name == x.name; });
            if (it == b.end()) {
                out.push_back(std::string(what) + " " + x.name + ": removed");
            } else if (!(it->body == x.body)) {
                out.push_back(std::string(what) + " " + x.name + ": changed");
            }
        }
        for (const auto& y : b) {
            if (std::none_of(a.begin(), a.end(), [&](const named_document& d) { return d.name == y.name; })) {
                out.push_back(std::string(what) + " " + y.name + ": added");
            }
        }
    };
    compare(before.trunks, after.trunks, "trunk");
    compare(before.users, after.users, "user");
    if (!(before.routes == after.routes)) out.push_back("routes: changed");
    if (!(before.inbound_routes == after.inbound_routes)) out.push_back("inbound_routes: changed");
    return out;
}

}  // namespace b2b::admin
