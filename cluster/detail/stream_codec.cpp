// Building the stream commands and reading their RESP2 replies.
#include "cluster/detail/stream_codec.hpp"

#include "cluster/error.hpp"

namespace b2b::cluster::detail {

namespace {

// One entry: [id, [field, value, field, value, ...]].
boost::system::result<event> parse_entry(const redis_reply& entry) {
    if (!entry.is_array() || entry.elements.size() != 2 || !entry.elements[0].is_string() ||
        !entry.elements[1].is_array() || entry.elements[1].elements.size() % 2 != 0)
        return errc::protocol_error;
    event e;
    e.id = entry.elements[0].text;
    const auto& fields = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (!fields[i].is_string() || !fields[i + 1].is_string()) return errc::protocol_error;
        const auto& name = fields[i].text;
        if (name == "node")
            e.node = fields[i + 1].text;
        else if (name == "kind")
            e.kind = fields[i + 1].text;
        else if (name == "body")
            e.body = fields[i + 1].text;
    }
    return e;
}

}  // namespace

std::vector<std::string> xadd_command(const std::string& key, std::size_t max_length,
                                      const std::string& node, const std::string& kind,
                                      const std::string& body) {
    // "~": Redis trims whole macro nodes only, far cheaper than an exact trim on every add.
    return {"XADD", key,  "MAXLEN", "~", std::to_string(max_length), "*", "node", node,
            "kind", kind, "body",   body};
}

std::vector<std::string> xread_command(const std::string& key, std::size_t count,
                                       const std::string& after) {
    return {"XREAD", "COUNT", std::to_string(count), "STREAMS", key, after};
}

std::vector<std::string> last_entry_command(const std::string& key) {
    return {"XREVRANGE", key, "+", "-", "COUNT", "1"};
}

boost::system::result<std::vector<event>> parse_xread(const redis_reply& reply,
                                                      std::string_view key) {
    std::vector<event> out;
    if (reply.is_nil()) return out;
    // [[key, [entry, ...]], ...]: one element per stream asked for.
    if (!reply.is_array()) return errc::protocol_error;
    for (const auto& stream : reply.elements) {
        if (!stream.is_array() || stream.elements.size() != 2 || !stream.elements[0].is_string() ||
            !stream.elements[1].is_array())
            return errc::protocol_error;
        if (stream.elements[0].text != key) continue;
        for (const auto& entry : stream.elements[1].elements) {
            auto e = parse_entry(entry);
            if (!e) return e.error();
            out.push_back(std::move(*e));
        }
    }
    return out;
}

boost::system::result<std::optional<std::string>> parse_last_entry(const redis_reply& reply) {
    if (!reply.is_array()) return errc::protocol_error;
    if (reply.elements.empty()) return std::optional<std::string>{};
    const auto& entry = reply.elements.front();
    if (!entry.is_array() || entry.elements.empty() || !entry.elements[0].is_string())
        return errc::protocol_error;
    return std::optional<std::string>{entry.elements[0].text};
}

}  // namespace b2b::cluster::detail
