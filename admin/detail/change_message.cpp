// The JSON body of a change published to the other nodes, written and read.
#include "admin/detail/change_message.hpp"

#include "admin/detail/json_response.hpp"
#include "b2bua/auth_failure_json.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <limits>
#include <optional>
#include <utility>

namespace b2b::admin::detail {

namespace json = boost::json;

namespace {

constexpr std::string_view put_op = "put";
constexpr std::string_view remove_op = "remove";

// The string member `key` of `o`; none when it is missing or not a string.
std::optional<std::string> text(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
}

std::string not_a_string(std::string_view key) { return std::string(key) + " is missing or not a string"; }

boost::system::result<audit_entry, std::string> read_audit(const json::value* v) {
    if (v == nullptr || !v->is_object()) return std::string("audit is missing or not an object");
    const auto& o = v->as_object();
    audit_entry a;
    auto time = text(o, "time");
    if (!time) return not_a_string("audit.time");
    const auto when = parse_time(*time);
    if (!when) return "audit.time is not an RFC 3339 time: " + *time;
    a.time = *when;
    for (auto [key, out] : {std::pair{"remote", &a.remote}, std::pair{"operation", &a.operation},
                            std::pair{"object", &a.object}}) {
        auto s = text(o, key);
        if (!s) return not_a_string("audit." + std::string(key));
        *out = std::move(*s);
    }
    const auto* result = o.if_contains("result");
    const auto* status = result == nullptr ? nullptr : result->if_int64();
    if (status == nullptr || *status < 0 || *status > std::numeric_limits<int>::max()) {
        return std::string("audit.result is missing or not an HTTP status");
    }
    a.result = static_cast<int>(*status);
    return a;
}

// change_message is an aggregate whose first member is a string: a plain std::string would be
// taken as one to construct it from, not as the error.
boost::system::result<change_message, std::string> refused(std::string why) {
    return {boost::system::in_place_error, std::move(why)};
}

}  // namespace

std::string serialize(const change_message& m) {
    json::object o;
    o["format"] = change_message_format;
    o["id"] = m.id;
    o["kind"] = m.change.kind;
    o["key"] = m.change.key;
    o["op"] = m.change.is_removal() ? remove_op : put_op;
    if (!m.change.is_removal()) o["document"] = *m.change.document;
    o["end_calls"] = m.end_calls;
    json::object audit;
    audit["time"] = b2bua::rfc3339_ms(m.audit.time);
    audit["remote"] = m.audit.remote;
    audit["operation"] = m.audit.operation;
    audit["object"] = m.audit.object;
    audit["result"] = m.audit.result;
    o["audit"] = std::move(audit);
    return json::serialize(o);
}

boost::system::result<change_message, std::string> parse_change_message(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) return refused("not JSON: " + ec.message());
    if (!v.is_object()) return refused("not a JSON object");
    const auto& o = v.as_object();

    const auto* format = o.if_contains("format");
    if (format == nullptr || !format->is_int64()) return refused("format is missing or not a number");
    if (format->as_int64() != change_message_format) {
        return refused("format " + std::to_string(format->as_int64()) + " is not the one this build reads (" +
                       std::to_string(change_message_format) + ")");
    }

    change_message m;
    auto id = text(o, "id");
    if (!id || id->empty()) return refused("id is missing, empty or not a string");
    m.id = std::move(*id);
    auto kind = text(o, "kind");
    if (!kind) return refused(not_a_string("kind"));
    auto key = text(o, "key");
    if (!key) return refused(not_a_string("key"));
    auto op = text(o, "op");
    if (!op) return refused(not_a_string("op"));
    m.change.kind = std::move(*kind);
    m.change.key = std::move(*key);
    const auto* document = o.if_contains("document");
    if (*op == put_op) {
        if (document == nullptr) return refused("a put carries no document");
        m.change.document = *document;
    } else if (*op == remove_op) {
        if (document != nullptr) return refused("a remove carries a document");
    } else {
        return refused("op is neither put nor remove: " + *op);
    }

    if (const auto* end_calls = o.if_contains("end_calls"); end_calls != nullptr) {
        if (!end_calls->is_bool()) return refused("end_calls is not true or false");
        m.end_calls = end_calls->as_bool();
    }
    auto audit = read_audit(o.if_contains("audit"));
    if (!audit) return refused(audit.error());
    m.audit = std::move(*audit);
    return m;
}

}  // namespace b2b::admin::detail
