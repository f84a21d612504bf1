// The status page's HTML.
#include "admin/status_page.hpp"

#include "admin/detail/html.hpp"
#include "auth/failure.hpp"
#include "b2bua/auth_failure_json.hpp"

#include <cstdio>
#include <string_view>

namespace b2b::admin {

namespace {

using detail::append_escaped;
using std::chrono::system_clock;

// Small, and inline: the page's Content-Security-Policy allows inline styles and nothing else.
constexpr std::string_view style = R"(body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b;background:#fafafa}
h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.4em 0 .4em}
table{border-collapse:collapse;background:#fff;min-width:40%}
th,td{border:1px solid #d0d0d0;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#eee;font-weight:600}small,.muted{color:#666}
.ok{color:#116611;font-weight:600}.bad{color:#b00000;font-weight:600}.warn{color:#9a5b00;font-weight:600}
.hint{max-width:48em}.time{white-space:nowrap}footer{margin-top:2em;color:#666;font-size:.9em}
)";

void text(std::string& out, std::string_view s) { append_escaped(out, s); }

// <span class="cls">what</span>
void badge(std::string& out, std::string_view cls, std::string_view what) {
    out += "<span class=\"";
    out += cls;
    out += "\">";
    text(out, what);
    out += "</span>";
}

std::string relative(system_clock::time_point t, system_clock::time_point now) {
    const auto d = std::chrono::duration_cast<std::chrono::seconds>(t - now);
    return d.count() >= 0 ? "in " + short_duration(d) : short_duration(-d) + " ago";
}

void health_cell(std::string& out, const status_snapshot::trunk_row& t) {
    out += "<td>";
    if (t.options_interval.count() == 0) {
        // Without pings nothing can mark the trunk down: say so rather than show "up".
        badge(out, "muted", "not probed");
        out += "<br><small>no OPTIONS pings (options_interval_s)</small>";
    } else {
        badge(out, t.up ? "ok" : "bad", t.up ? "up" : "down");
        out += "<br><small>OPTIONS every " + short_duration(t.options_interval) + "</small>";
    }
    out += "</td>";
}

void registration_cell(std::string& out, const status_snapshot::trunk_row& t, system_clock::time_point now) {
    out += "<td>";
    if (!t.registration) {
        out += "<span class=\"muted\">does not register</span></td>";
        return;
    }
    const auto& r = *t.registration;
    if (r.registered_by) {
        badge(out, "ok", "elsewhere");
        out += "<br><small>registered by ";
        text(out, r.registered_by->empty() ? std::string("another node") : "node " + *r.registered_by);
        out += " of the cluster</small></td>";
        return;
    }
    using registration::registration_state;
    const std::string_view state = registration::to_string(r.state);
    badge(out, r.state == registration_state::registered  ? "ok"
               : r.state == registration_state::failing   ? "bad"
                                                          : "warn",
          state);
    if (r.failure) {
        out += " <small>(";
        text(out, registration::to_string(*r.failure));
        out += ")</small>";
    }
    if (r.state == registration_state::failing && r.last_status != 0) {
        out += "<br><small>last answer ";
        out += std::to_string(r.last_status);
        if (!r.last_reason.empty()) {
            out += ' ';
            text(out, r.last_reason);
        }
        out += "</small>";
    }
    if (!r.last_warning.empty()) {
        out += "<br><small>Warning: ";
        text(out, r.last_warning);
        out += "</small>";
    }
    if (r.expires) out += "<br><small>expires " + relative(*r.expires, now) + "</small>";
    if (r.next_attempt) {
        out += "<br><small>";
        out += r.state == registration_state::registered ? "refresh " : "next attempt ";
        out += relative(*r.next_attempt, now) + "</small>";
    }
    out += "</td>";
}

void trunks_section(std::string& out, const status_snapshot& s) {
    out += "<h2>Trunks</h2>\n";
    if (s.trunks.empty()) {
        out += "<p class=\"muted\">no trunk configured</p>\n";
        return;
    }
    out += "<table><thead><tr><th>trunk</th><th>health</th><th>registration</th><th>calls</th></tr></thead><tbody>\n";
    for (const auto& t : s.trunks) {
        out += "<tr><td>";
        text(out, t.name);
        out += "</td>";
        health_cell(out, t);
        registration_cell(out, t, s.now);
        out += "<td>" + std::to_string(t.active_calls) + "</td></tr>\n";
    }
    out += "</tbody></table>\n";
}

void cell(std::string& out, std::string_view value) {
    out += "<td>";
    if (value.empty()) {
        out += "<span class=\"muted\">&mdash;</span>";
    } else {
        text(out, value);
    }
    out += "</td>";
}

void calls_section(std::string& out, const status_snapshot& s) {
    out += "<h2>Active calls: " + std::to_string(s.active_calls) + "</h2>\n";
    if (s.calls.empty()) return;
    out += "<table><thead><tr><th>call</th><th>direction</th><th>trunk</th><th>from</th><th>to</th><th>state</th>"
           "<th>age</th></tr></thead><tbody>\n";
    for (const auto& c : s.calls) {
        out += "<tr><td>" + std::to_string(c.id) + "</td>";
        cell(out, b2bua::to_string(c.direction));
        cell(out, c.trunk);
        cell(out, c.caller);
        cell(out, c.dialled);
        cell(out, c.state);
        const auto age = std::chrono::duration_cast<std::chrono::seconds>(s.now - c.start);
        cell(out, short_duration(age < std::chrono::seconds(0) ? std::chrono::seconds(0) : age));
        out += "</tr>\n";
    }
    out += "</tbody></table>\n";
    if (s.active_calls > s.calls.size()) {
        out += "<p class=\"muted\">the first " + std::to_string(s.calls.size()) + " of " +
               std::to_string(s.active_calls) + "; all of them: GET /api/v1/calls</p>\n";
    }
}

void failures_section(std::string& out, const status_snapshot& s) {
    out += "<h2>Authentication failures</h2>\n";
    if (s.failures.empty()) {
        out += "<p class=\"muted\">none recorded</p>\n";
        return;
    }
    out += "<p class=\"muted\">the last " + std::to_string(s.failures.size()) +
           ", newest first (GET /api/v1/auth/failures)</p>\n";
    out += "<table><thead><tr><th>time (UTC)</th><th>direction</th><th>peer</th><th>user</th><th>reason</th>"
           "<th>count</th><th>hint</th></tr></thead><tbody>\n";
    for (const auto& e : s.failures) {
        const auto& r = e.last;
        out += "<tr><td class=\"time\">";
        text(out, b2bua::rfc3339_ms(r.time));
        out += "</td>";
        cell(out, b2bua::to_string(r.direction));
        out += "<td>";
        text(out, r.peer);
        const std::string where = r.source ? r.source->to_string() : r.peer_host;
        if (!where.empty()) {
            out += "<br><small>";
            text(out, where);
            out += "</small>";
        }
        out += "</td>";
        cell(out, r.username);
        out += "<td>";
        badge(out, "bad", auth::to_string(r.reason));
        if (r.status != 0) {
            out += "<br><small>";
            text(out, r.method);
            out += ' ' + std::to_string(r.status);
            if (!r.reason_phrase.empty()) {
                out += ' ';
                text(out, r.reason_phrase);
            }
            out += "</small>";
        }
        if (!r.warning.empty()) {
            out += "<br><small>Warning: ";
            text(out, r.warning);
            out += "</small>";
        }
        out += "</td><td>" + std::to_string(e.count) + "</td><td class=\"hint\">";
        text(out, b2bua::hint(e));
        out += "</td></tr>\n";
    }
    out += "</tbody></table>\n";
}

}  // namespace

std::string short_duration(std::chrono::seconds d) {
    const long long total = d.count() < 0 ? 0 : d.count();
    const long long days = total / 86400, hours = total / 3600 % 24, minutes = total / 60 % 60, seconds = total % 60;
    char buf[48];
    if (days > 0) {
        std::snprintf(buf, sizeof buf, "%lldd %02lldh", days, hours);
    } else if (hours > 0) {
        std::snprintf(buf, sizeof buf, "%lldh %02lldm", hours, minutes);
    } else if (minutes > 0) {
        std::snprintf(buf, sizeof buf, "%lldm %02llds", minutes, seconds);
    } else {
        std::snprintf(buf, sizeof buf, "%llds", seconds);
    }
    return buf;
}

std::string render_status_page(const status_snapshot& s) {
    std::string out;
    out.reserve(8192);
    out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
    out += "<meta http-equiv=\"refresh\" content=\"" + std::to_string(status_page_refresh.count()) + "\">\n";
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out += "<title>b2bua status</title>\n<style>";
    out += style;
    out += "</style></head>\n<body>\n<h1>b2bua status</h1>\n";

    std::size_t down = 0, registering = 0, not_registered = 0;
    for (const auto& t : s.trunks) {
        if (t.options_interval.count() != 0 && !t.up) ++down;
        if (!t.registration || t.registration->registered_by) continue;  // another node's to count
        ++registering;
        if (t.registration->state != registration::registration_state::registered) ++not_registered;
    }
    out += "<p>" + std::to_string(s.trunks.size()) + " trunk(s): ";
    badge(out, down == 0 ? "ok" : "bad", std::to_string(down) + " down");
    if (registering > 0) {
        out += ", ";
        badge(out, not_registered == 0 ? "ok" : "bad", std::to_string(not_registered) + " not registered");
    }
    out += " &middot; " + std::to_string(s.active_calls) + " active call(s) &middot; " +
           std::to_string(s.pbx_bindings) + " PBX registration(s) &middot; ";
    badge(out, s.failures.empty() ? "ok" : "warn", std::to_string(s.failures.size()) + " recent authentication failure(s)");
    out += "</p>\n";

    trunks_section(out, s);
    calls_section(out, s);
    out += "<h2>PBX registrations</h2>\n<p>" + std::to_string(s.pbx_bindings) +
           " binding(s) of PBX accounts with us (GET /api/v1/registrations)</p>\n";
    failures_section(out, s);

    out += "<footer>b2bua ";
    text(out, s.version);
    out += " &middot; up " + short_duration(s.uptime) + " &middot; as of ";
    text(out, b2bua::rfc3339_ms(s.now));
    out += " &middot; reloads every " + std::to_string(status_page_refresh.count()) + " s</footer>\n</body></html>\n";
    return out;
}

}  // namespace b2b::admin
