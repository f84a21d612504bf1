// Text views of the admin API's documents for b2buactl.
#include "admin/ctl/render.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace b2b::admin::ctl {

namespace {

constexpr std::string_view red = "\x1b[31m";
constexpr std::string_view yellow = "\x1b[33m";
constexpr std::string_view bold = "\x1b[1m";
constexpr std::string_view reset = "\x1b[0m";

// The peer's text reaches a terminal: no escape sequences from it.
std::string printable(std::string_view s) {
    std::string out(s);
    for (char& ch : out) {
        const auto b = static_cast<unsigned char>(ch);
        if (b < 0x20 || b == 0x7f) ch = '?';
    }
    return out;
}

// A field as text: strings as they are (made printable), numbers and booleans written, null
// or absent as `absent`.
std::string text(const boost::json::value* v, std::string_view absent = "-") {
    if (v == nullptr || v->is_null()) return std::string(absent);
    if (v->is_string()) return printable(v->get_string());
    if (v->is_bool()) return v->get_bool() ? "yes" : "no";
    if (v->is_double()) {
        char buf[32];
        const int n = std::snprintf(buf, sizeof buf, "%.1f", v->get_double());
        return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    }
    return printable(boost::json::serialize(*v));
}

std::string field(const boost::json::object& o, std::string_view key, std::string_view absent = "-") {
    return text(o.if_contains(key), absent);
}

std::string painted(std::string_view s, std::string_view colour, style st) {
    if (!st.color) return std::string(s);
    return std::string(colour) + std::string(s) + std::string(reset);
}

const boost::json::array* array_at(const boost::json::value& doc, std::string_view key) {
    const auto* o = doc.if_object();
    if (o == nullptr) return nullptr;
    const auto* v = o->if_contains(key);
    return v != nullptr ? v->if_array() : nullptr;
}

// Columns padded to their widest cell.
std::string table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(head.size());
    for (std::size_t i = 0; i < head.size(); ++i) width[i] = head[i].size();
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
    std::string out;
    const auto line = [&](const std::vector<std::string>& cells) {
        std::string l;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            l += cells[i];
            if (i + 1 < cells.size()) l += std::string(width[i] - cells[i].size() + 2, ' ');
        }
        out += l + "\n";
    };
    line(head);
    for (const auto& r : rows) line(r);
    return out;
}

// Every member of an object as "key: value" lines, nested objects indented.
std::string key_values(const boost::json::object& o, const std::string& indent = "") {
    std::string out;
    for (const auto& kv : o) {
        const std::string key = printable(kv.key());
        if (const auto* nested = kv.value().if_object()) {
            out += indent + key + ":\n" + key_values(*nested, indent + "  ");
        } else if (const auto* list = kv.value().if_array()) {
            std::string items;
            for (const auto& item : *list) {
                if (!items.empty()) items += ", ";
                items += text(&item);
            }
            out += indent + key + ": " + items + "\n";
        } else {
            out += indent + key + ": " + text(&kv.value()) + "\n";
        }
    }
    return out;
}

bool severe(std::string_view reason) {
    return reason == "wrong_password" || reason == "rejected" || reason == "forbidden" || reason == "unknown_user";
}

}  // namespace

exit_code exit_code_for(int status) noexcept {
    if (status >= 200 && status < 300) return exit_code::ok;
    if (status == 401 || status == 403) return exit_code::not_authorised;
    return exit_code::refused;
}

std::string render_failures(const boost::json::value& doc, style s) {
    const auto* failures = array_at(doc, "failures");
    if (failures == nullptr) return "the API's answer has no failures list\n";
    if (failures->empty()) return "no authentication failures recorded\n";
    std::string out;
    for (const auto& item : *failures) {
        const auto* f = item.if_object();
        if (f == nullptr) continue;
        if (!out.empty()) out += "\n";
        const std::string reason = field(*f, "reason");
        out += painted(field(*f, "time"), bold, s) + "  " + field(*f, "direction") + "  " +
               painted(reason, severe(reason) ? red : yellow, s) + "\n";
        std::string who = "  peer " + field(*f, "peer");
        if (const auto src = field(*f, "source", ""); !src.empty()) who += "  source " + src;
        if (const auto user = field(*f, "username", ""); !user.empty()) who += "  user " + user;
        if (const auto trunk = field(*f, "trunk", ""); !trunk.empty() && trunk != field(*f, "peer")) who += "  trunk " + trunk;
        const std::string count = field(*f, "count", "1");
        who += "  count " + count;
        if (count != "1") who += " since " + field(*f, "first");
        out += who + "\n";
        std::string leg = "  " + field(*f, "method", "?") + " call-id " + field(*f, "call_id", "?");
        if (const auto status = field(*f, "status", ""); !status.empty()) {
            leg += "  " + status;
            if (const auto phrase = field(*f, "reason_phrase", ""); !phrase.empty()) leg += " " + phrase;
        }
        if (const auto warning = field(*f, "warning", ""); !warning.empty()) leg += "  warning " + warning;
        out += leg + "\n";
        out += "  " + field(*f, "hint", "") + "\n";
    }
    return out;
}

std::string render_summary(const boost::json::value& doc, style s) {
    const auto* o = doc.if_object();
    if (o == nullptr) return "the API's answer is not a summary\n";
    std::string out = "authentication failures in the last " + field(*o, "window_s", "?") + " s\n";
    const auto* counts = array_at(doc, "counts");
    if (counts == nullptr || counts->empty()) {
        out += "none\n";
    } else {
        std::vector<std::vector<std::string>> rows;
        for (const auto& c : *counts) {
            if (const auto* r = c.if_object())
                rows.push_back({field(*r, "count"), field(*r, "direction"), field(*r, "reason"), field(*r, "peer")});
        }
        out += table({"COUNT", "DIRECTION", "REASON", "PEER"}, rows);
    }
    if (const auto* top = array_at(doc, "top_sources"); top != nullptr && !top->empty()) {
        out += "\n" + painted("most frequent sources of downstream failures", bold, s) + "\n";
        std::vector<std::vector<std::string>> rows;
        for (const auto& t : *top) {
            if (const auto* r = t.if_object()) rows.push_back({field(*r, "count"), field(*r, "source")});
        }
        out += table({"COUNT", "SOURCE"}, rows);
    }
    return out;
}

std::string render(const invocation& inv, const boost::json::value& doc, style s) {
    const auto* o = doc.if_object();
    switch (inv.shown) {
        case view::failures:
            return render_failures(doc, s);
        case view::summary:
            return render_summary(doc, s);
        case view::trunks: {
            const auto* trunks = array_at(doc, "trunks");
            if (trunks == nullptr) break;
            std::vector<std::vector<std::string>> rows;
            for (const auto& t : *trunks) {
                const auto* r = t.if_object();
                if (r == nullptr) continue;
                const auto* st = r->if_contains("status");
                const auto* so = st != nullptr ? st->if_object() : nullptr;
                rows.push_back({field(*r, "name"), field(*r, "uri"),
                                so ? (so->if_contains("up") && text(so->if_contains("up")) == "yes" ? "up" : "down") : "-",
                                so ? field(*so, "active_calls") : "-", so ? field(*so, "registration") : "-"});
            }
            return table({"NAME", "URI", "STATUS", "CALLS", "REGISTRATION"}, rows);
        }
        case view::trunk:
        case view::call:
            if (o != nullptr) return key_values(*o);
            break;
        case view::trunk_deleted:
            return "trunk " + printable(inv.subject) + " deleted\n";
        case view::trunk_rotated:
            return "trunk " + printable(inv.subject) + ": password changed\n";
        case view::register_started:
            return "trunk " + printable(inv.subject) + ": registering\n";
        case view::registrations: {
            std::string out;
            if (const auto* up = array_at(doc, "upstream")) {
                std::vector<std::vector<std::string>> rows;
                for (const auto& u : *up) {
                    const auto* r = u.if_object();
                    if (r == nullptr) continue;
                    // Cluster: "elsewhere (node1)", the node that registers it.
                    std::string state = field(*r, "state");
                    if (const auto* by = r->if_contains("registered_by"); by != nullptr && by->is_string()) {
                        state += " (" + field(*r, "registered_by") + ")";
                    }
                    rows.push_back({field(*r, "trunk"), state, field(*r, "last_status"), field(*r, "reason"),
                                    field(*r, "expires_s"), field(*r, "failure")});
                }
                out += table({"TRUNK", "STATE", "STATUS", "REASON", "EXPIRES_S", "FAILURE"}, rows);
            }
            if (const auto* down = array_at(doc, "downstream")) {
                std::vector<std::vector<std::string>> rows;
                for (const auto& d : *down) {
                    if (const auto* r = d.if_object())
                        rows.push_back({field(*r, "user"), field(*r, "contact"), field(*r, "source"),
                                        field(*r, "transport"), field(*r, "expires")});
                }
                if (!out.empty()) out += "\n";
                out += table({"USER", "CONTACT", "SOURCE", "TRANSPORT", "EXPIRES"}, rows);
            }
            if (!out.empty()) return out;
            break;
        }
        case view::calls: {
            const auto* calls = array_at(doc, "calls");
            if (calls == nullptr) break;
            std::vector<std::vector<std::string>> rows;
            for (const auto& c : *calls) {
                if (const auto* r = c.if_object())
                    rows.push_back({field(*r, "id"), field(*r, "direction"), field(*r, "state"), field(*r, "trunk"),
                                    field(*r, "caller"), field(*r, "dialled"), field(*r, "duration_s")});
            }
            return table({"ID", "DIRECTION", "STATE", "TRUNK", "CALLER", "DIALLED", "DURATION_S"}, rows);
        }
        case view::hangup:
            if (o != nullptr) return "call " + field(*o, "id") + ": " + field(*o, "action") + " sent\n";
            break;
        case view::cdrs: {
            const auto* cdrs = array_at(doc, "cdrs");
            if (cdrs == nullptr) break;
            std::vector<std::vector<std::string>> rows;
            for (const auto& c : *cdrs) {
                if (const auto* r = c.if_object())
                    rows.push_back({field(*r, "start"), field(*r, "direction"), field(*r, "trunk"), field(*r, "caller"),
                                    field(*r, "dialled"), field(*r, "result"), field(*r, "duration_s"),
                                    field(*r, "hangup_by")});
            }
            return table({"START", "DIRECTION", "TRUNK", "CALLER", "DIALLED", "RESULT", "DURATION_S", "HANGUP_BY"},
                         rows);
        }
        case view::reloaded:
            if (const auto* list = array_at(doc, "reloaded")) {
                std::string names;
                for (const auto& n : *list) {
                    if (!names.empty()) names += ", ";
                    names += text(&n);
                }
                return "reloaded: " + (names.empty() ? std::string("nothing changed") : names) + "\n";
            }
            break;
        case view::log_level:
            return "log level: " + printable(inv.subject) + "\n";
        case view::bans: {
            const auto* bans = array_at(doc, "bans");
            if (bans == nullptr) break;
            std::vector<std::vector<std::string>> rows;
            for (const auto& b : *bans) {
                if (const auto* r = b.if_object())
                    rows.push_back({field(*r, "source"), field(*r, "until"), field(*r, "remaining_s"),
                                    field(*r, "origin"), field(*r, "bans_in_a_row"), field(*r, "username")});
            }
            return table({"SOURCE", "UNTIL", "REMAINING_S", "ORIGIN", "IN_A_ROW", "USERNAME"}, rows);
        }
        case view::banned:
            if (o != nullptr) return field(*o, "source") + " banned until " + field(*o, "until") + "\n";
            break;
        case view::unbanned:
            return printable(inv.subject) + ": ban lifted\n";
    }
    // An answer of another shape than expected: shown as it is.
    if (doc.is_null()) return {};
    return printable(boost::json::serialize(doc)) + "\n";
}

std::string error_message(int status, std::string_view reason, std::string_view body) {
    boost::system::error_code ec;
    const auto doc = boost::json::parse(body, ec);
    if (!ec) {
        if (const auto* o = doc.if_object()) {
            if (const auto* e = o->if_contains("error"); e != nullptr && e->is_string()) {
                std::string out = printable(e->get_string());
                if (const auto* f = o->if_contains("field"); f != nullptr && f->is_string())
                    out += " (field " + printable(f->get_string()) + ")";
                return out;
            }
        }
    }
    return "the API answered " + std::to_string(status) + (reason.empty() ? "" : " " + printable(reason));
}

}  // namespace b2b::admin::ctl
