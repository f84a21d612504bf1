// Registrar bindings to and from the store's JSON.
#include "admin/bindings.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace b2b::admin {

namespace json = boost::json;

namespace {

json::object endpoint_json(const sip::endpoint& e) {
    json::object o;
    o["address"] = e.address.to_string();
    o["port"] = e.port;
    return o;
}

std::optional<sip::endpoint> endpoint_from(const json::value* v) {
    if (v == nullptr || !v->is_object()) return std::nullopt;
    const auto& o = v->as_object();
    const auto* a = o.if_contains("address");
    const auto* p = o.if_contains("port");
    if (a == nullptr || !a->is_string() || p == nullptr || !p->is_int64() || p->as_int64() < 0 || p->as_int64() > 65535) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(a->as_string()), ec);
    if (ec) return std::nullopt;
    return sip::endpoint{address, static_cast<std::uint16_t>(p->as_int64())};
}

std::string text(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

json::object binding_object(const registration::binding& b, std::chrono::system_clock::time_point expires) {
    json::object o;
    o["user"] = b.user;
    o["contact"] = b.contact;
    o["call_id"] = b.call_id;
    o["cseq"] = b.cseq;
    o["transport"] = sip::to_string(b.source.transport);
    o["local"] = endpoint_json(b.source.local);
    o["remote"] = endpoint_json(b.source.remote);
    o["behind_nat"] = b.behind_nat;
    o["destination"] = endpoint_json(b.destination);
    if (!b.path.empty()) {
        json::array path;
        for (const auto& entry : b.path) path.emplace_back(entry);
        o["path"] = std::move(path);
    }
    o["expires_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(expires.time_since_epoch()).count();
    return o;
}

std::optional<timed_binding> binding_from(const json::value& v) {
    if (!v.is_object()) return std::nullopt;
    const auto& o = v.as_object();
    registration::binding b;
    b.user = text(o, "user");
    b.contact = text(o, "contact");
    b.call_id = text(o, "call_id");
    if (b.user.empty() || b.contact.empty()) return std::nullopt;
    if (const auto* c = o.if_contains("cseq"); c != nullptr && c->is_int64()) b.cseq = static_cast<std::uint32_t>(c->as_int64());
    if (!sip::transport_from_string(text(o, "transport"), b.source.transport)) return std::nullopt;
    const auto local = endpoint_from(o.if_contains("local"));
    const auto remote = endpoint_from(o.if_contains("remote"));
    const auto destination = endpoint_from(o.if_contains("destination"));
    const auto* expires = o.if_contains("expires_ms");
    if (!local || !remote || !destination || expires == nullptr || !expires->is_int64()) return std::nullopt;
    b.source.local = *local;
    b.source.remote = *remote;
    // A stream connection does not survive the restart: requests to the PBX open a new one.
    b.source.connection = 0;
    b.destination = *destination;
    if (const auto* n = o.if_contains("behind_nat"); n != nullptr && n->is_bool()) b.behind_nat = n->as_bool();
    if (const auto* p = o.if_contains("path")) {
        if (!p->is_array()) return std::nullopt;
        for (const auto& entry : p->as_array()) {
            if (!entry.is_string()) return std::nullopt;
            b.path.emplace_back(entry.as_string());
        }
    }
    return std::make_pair(std::move(b),
                          std::chrono::system_clock::time_point(std::chrono::milliseconds(expires->as_int64())));
}

}  // namespace

std::string binding_json(const registration::binding& b, std::chrono::system_clock::time_point expires) {
    return json::serialize(binding_object(b, expires));
}

std::optional<timed_binding> binding_from_json(std::string_view text_json) {
    boost::system::error_code ec;
    const auto v = json::parse(text_json, ec);
    if (ec) return std::nullopt;
    return binding_from(v);
}

std::string account_bindings_json(std::string_view user, const std::vector<timed_binding>& now) {
    json::object o;
    o["user"] = user;
    json::array list;
    list.reserve(now.size());
    for (const auto& [b, expires] : now) list.push_back(binding_object(b, expires));
    o["bindings"] = std::move(list);
    return json::serialize(o);
}

std::optional<account_bindings> account_bindings_from_json(std::string_view text_json) {
    boost::system::error_code ec;
    const auto v = json::parse(text_json, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.as_object();
    account_bindings a;
    a.user = text(o, "user");
    const auto* list = o.if_contains("bindings");
    if (a.user.empty() || list == nullptr || !list->is_array()) return std::nullopt;
    for (const auto& item : list->as_array()) {
        auto b = binding_from(item);
        // One binding of another account, or one not understood: the whole message is suspect.
        if (!b || b->first.user != a.user) return std::nullopt;
        a.bindings.push_back(std::move(*b));
    }
    return a;
}

}  // namespace b2b::admin
