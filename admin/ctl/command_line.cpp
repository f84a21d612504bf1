// Parsing b2buactl's command line into one admin API request.
#include "admin/ctl/command_line.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

namespace b2b::admin::ctl {

namespace {

constexpr std::string_view usage =
    "usage: b2buactl [--url URL] [--token-file F] [--json] COMMAND\n"
    "       b2buactl --version | --help\n"
    "commands:\n"
    "  trunks                              list the trunks\n"
    "  trunk show N                        one trunk\n"
    "  trunk add N --uri U [--username U] [--password-file F|--password P] [--register]\n"
    "  trunk rotate N (--password-file F|--password P)\n"
    "  trunk delete N [--force]            --force ends its calls in progress\n"
    "  registrations                       ours with the trunks, the PBXs' with us\n"
    "  register N                          register with trunk N now\n"
    "  why [--direction D] [--reason R] [--peer P] [--limit N]\n"
    "                                      recent authentication failures, newest first\n"
    "  summary [--window 1h]               authentication failures counted over a window\n"
    "  calls | call show ID | hangup ID    calls in progress; end one\n"
    "  cdrs [--limit N]                    call detail records\n"
    "  reload                              re-read the configuration\n"
    "  log-level LEVEL                     trace, debug, info, warn, error, critical, off\n"
    "  bans                                banned source addresses\n"
    "  ban ADDRESS [--duration S]          ban a source (S seconds; default security.ban.first_s)\n"
    "  unban ADDRESS                       lift a ban\n"
    "environment: B2BUA_URL (default http://127.0.0.1:9090), B2BUA_ADMIN_TOKEN\n"
    "exit: 0 ok, 1 refused by the API, 2 usage, 3 cannot reach the API, 4 not authorised\n";

std::string trim_trailing(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.pop_back();
    return s;
}

bool is_number(std::string_view s) {
    unsigned long long v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// "1h", "30m", "90s", "2d" or plain seconds: what the API's window= accepts.
bool is_window(std::string_view s) {
    if (s.empty()) return false;
    const char unit = s.back();
    if (unit == 's' || unit == 'm' || unit == 'h' || unit == 'd') s.remove_suffix(1);
    return is_number(s);
}

// The command's own flags: "--name value" or "--name=value", and switches.
struct flags {
    std::map<std::string, std::string, std::less<>> values;
    std::vector<std::string> positional;
};

std::optional<usage_error> split(const std::vector<std::string>& words, const std::vector<std::string_view>& valued,
                                 const std::vector<std::string_view>& switches, flags& out) {
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (w.size() < 2 || w.compare(0, 2, "--") != 0) {
            out.positional.push_back(w);
            continue;
        }
        std::string name = w.substr(2);
        std::optional<std::string> value;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
        }
        if (std::find(switches.begin(), switches.end(), name) != switches.end()) {
            if (value) return usage_error{"--" + name + " takes no value"};
            out.values[name] = "true";
            continue;
        }
        if (std::find(valued.begin(), valued.end(), name) == valued.end())
            return usage_error{"unknown option --" + name};
        if (!value) {
            if (i + 1 >= words.size()) return usage_error{"--" + name + " needs a value"};
            value = words[++i];
        }
        out.values[name] = *value;
    }
    return std::nullopt;
}

std::optional<std::string> flag(const flags& f, std::string_view name) {
    const auto it = f.values.find(name);
    if (it == f.values.end()) return std::nullopt;
    return it->second;
}

std::string query(const std::vector<std::pair<std::string, std::string>>& params) {
    std::string out;
    for (const auto& [k, v] : params) {
        out += out.empty() ? '?' : '&';
        out += k;
        out += '=';
        out += percent_encode(v);
    }
    return out;
}

std::string json_body(const boost::json::object& o) { return boost::json::serialize(o); }

}  // namespace

std::string_view usage_text() noexcept { return usage; }

std::string percent_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0x0f];
        }
    }
    return out;
}

std::variant<invocation, usage_error> parse_command_line(const std::vector<std::string>& args,
                                                         const env_reader& env, const file_reader& read_file) {
    invocation inv;
    std::optional<std::string> url;
    std::optional<std::string> token_file;
    std::vector<std::string> words;
    // Global options first, wherever they are.
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const auto take = [&](std::string_view name, std::optional<std::string>& into) -> std::optional<usage_error> {
            const std::string eq = "--" + std::string(name) + "=";
            if (a.compare(0, eq.size(), eq) == 0) {
                into = a.substr(eq.size());
            } else if (i + 1 < args.size()) {
                into = args[++i];
            } else {
                return usage_error{"--" + std::string(name) + " needs a value"};
            }
            return std::nullopt;
        };
        if (a == "--url" || a.rfind("--url=", 0) == 0) {
            if (auto e = take("url", url)) return *e;
        } else if (a == "--token-file" || a.rfind("--token-file=", 0) == 0) {
            if (auto e = take("token-file", token_file)) return *e;
        } else if (a == "--json") {
            inv.json = true;
        } else if (a == "--help" || a == "-h") {
            return usage_error{""};
        } else {
            words.push_back(a);
        }
    }
    if (url) {
        inv.url = *url;
    } else if (auto e = env("B2BUA_URL"); e && !e->empty()) {
        inv.url = *e;
    } else {
        inv.url = default_url;
    }
    if (token_file) {
        auto text = read_file(*token_file);
        if (!text) return usage_error{"cannot read the token file " + *token_file};
        inv.token = trim_trailing(std::move(*text));
    } else if (auto e = env("B2BUA_ADMIN_TOKEN")) {
        inv.token = trim_trailing(*e);
    }

    if (words.empty()) return usage_error{"no command given"};
    const std::string command = words.front();
    const std::vector<std::string> rest(words.begin() + 1, words.end());
    api_request& req = inv.request;
    req.method = "GET";
    flags f;
    const auto no_arguments = [&]() -> std::optional<usage_error> {
        if (auto e = split(rest, {}, {}, f)) return e;
        if (!f.positional.empty()) return usage_error{command + " takes no arguments"};
        return std::nullopt;
    };
    const auto password = [&]() -> std::variant<std::string, usage_error> {
        const auto file = flag(f, "password-file");
        const auto given = flag(f, "password");
        if (file && given) return usage_error{"give --password-file or --password, not both"};
        if (file) {
            auto text = read_file(*file);
            if (!text) return usage_error{"cannot read the password file " + *file};
            return trim_trailing(std::move(*text));
        }
        if (given) return *given;
        return std::string();
    };

    if (command == "trunks") {
        if (auto e = no_arguments()) return *e;
        req.target = "/api/v1/trunks";
        inv.shown = view::trunks;
    } else if (command == "trunk") {
        if (rest.empty()) return usage_error{"trunk needs show, add, rotate or delete"};
        const std::string sub = rest.front();
        const std::vector<std::string> tail(rest.begin() + 1, rest.end());
        if (sub == "show") {
            if (auto e = split(tail, {}, {}, f)) return *e;
            if (f.positional.size() != 1) return usage_error{"trunk show needs one trunk name"};
            inv.subject = f.positional[0];
            req.target = "/api/v1/trunks/" + percent_encode(inv.subject);
            inv.shown = view::trunk;
        } else if (sub == "add") {
            if (auto e = split(tail, {"uri", "username", "password-file", "password"}, {"register"}, f)) return *e;
            if (f.positional.size() != 1) return usage_error{"trunk add needs one trunk name"};
            const auto uri = flag(f, "uri");
            if (!uri || uri->empty()) return usage_error{"trunk add needs --uri"};
            auto pw = password();
            if (auto* e = std::get_if<usage_error>(&pw)) return *e;
            inv.subject = f.positional[0];
            boost::json::object body{{"name", inv.subject}, {"uri", *uri}};
            if (auto user = flag(f, "username")) body["username"] = *user;
            if (const auto& p = std::get<std::string>(pw); !p.empty()) body["password"] = p;
            if (flag(f, "register")) body["register"] = true;
            req.method = "POST";
            req.target = "/api/v1/trunks";
            req.body = json_body(body);
            req.content_type = "application/json";
            inv.shown = view::trunk;
        } else if (sub == "rotate") {
            if (auto e = split(tail, {"password-file", "password"}, {}, f)) return *e;
            if (f.positional.size() != 1) return usage_error{"trunk rotate needs one trunk name"};
            auto pw = password();
            if (auto* e = std::get_if<usage_error>(&pw)) return *e;
            const auto& p = std::get<std::string>(pw);
            if (p.empty()) return usage_error{"trunk rotate needs --password-file or --password"};
            inv.subject = f.positional[0];
            // RFC 7396: a merge patch changes the password and nothing else.
            req.method = "PATCH";
            req.target = "/api/v1/trunks/" + percent_encode(inv.subject);
            req.body = json_body({{"password", p}});
            req.content_type = "application/merge-patch+json";
            inv.shown = view::trunk_rotated;
        } else if (sub == "delete") {
            if (auto e = split(tail, {}, {"force"}, f)) return *e;
            if (f.positional.size() != 1) return usage_error{"trunk delete needs one trunk name"};
            inv.subject = f.positional[0];
            req.method = "DELETE";
            req.target = "/api/v1/trunks/" + percent_encode(inv.subject) + (flag(f, "force") ? "?force=true" : "");
            inv.shown = view::trunk_deleted;
        } else {
            return usage_error{"unknown trunk command " + sub};
        }
    } else if (command == "registrations") {
        if (auto e = no_arguments()) return *e;
        req.target = "/api/v1/registrations";
        inv.shown = view::registrations;
    } else if (command == "register") {
        if (auto e = split(rest, {}, {}, f)) return *e;
        if (f.positional.size() != 1) return usage_error{"register needs one trunk name"};
        inv.subject = f.positional[0];
        req.method = "POST";
        req.target = "/api/v1/trunks/" + percent_encode(inv.subject) + "/register";
        inv.shown = view::register_started;
    } else if (command == "why") {
        if (auto e = split(rest, {"direction", "reason", "peer", "limit"}, {}, f)) return *e;
        if (!f.positional.empty()) return usage_error{"why takes only --direction, --reason, --peer and --limit"};
        std::vector<std::pair<std::string, std::string>> params;
        if (auto d = flag(f, "direction")) {
            if (*d != "downstream" && *d != "upstream") return usage_error{"--direction is downstream or upstream"};
            params.emplace_back("direction", *d);
        }
        if (auto r = flag(f, "reason")) params.emplace_back("reason", *r);
        if (auto p = flag(f, "peer")) params.emplace_back("peer", *p);
        if (auto l = flag(f, "limit")) {
            if (!is_number(*l)) return usage_error{"--limit needs a number"};
            params.emplace_back("limit", *l);
        }
        req.target = "/api/v1/auth/failures" + query(params);
        inv.shown = view::failures;
    } else if (command == "summary") {
        if (auto e = split(rest, {"window"}, {}, f)) return *e;
        if (!f.positional.empty()) return usage_error{"summary takes only --window"};
        const std::string window = flag(f, "window").value_or("1h");
        if (!is_window(window)) return usage_error{"--window is a duration such as 90s, 30m, 1h or 2d"};
        req.target = "/api/v1/auth/summary" + query({{"window", window}});
        inv.shown = view::summary;
    } else if (command == "calls") {
        if (auto e = no_arguments()) return *e;
        req.target = "/api/v1/calls";
        inv.shown = view::calls;
    } else if (command == "call") {
        if (auto e = split(rest, {}, {}, f)) return *e;
        if (f.positional.size() != 2 || f.positional[0] != "show") return usage_error{"call show needs one call id"};
        inv.subject = f.positional[1];
        req.target = "/api/v1/calls/" + percent_encode(inv.subject);
        inv.shown = view::call;
    } else if (command == "hangup") {
        if (auto e = split(rest, {}, {}, f)) return *e;
        if (f.positional.size() != 1) return usage_error{"hangup needs one call id"};
        inv.subject = f.positional[0];
        req.method = "DELETE";
        req.target = "/api/v1/calls/" + percent_encode(inv.subject);
        inv.shown = view::hangup;
    } else if (command == "cdrs") {
        if (auto e = split(rest, {"limit"}, {}, f)) return *e;
        if (!f.positional.empty()) return usage_error{"cdrs takes only --limit"};
        std::vector<std::pair<std::string, std::string>> params;
        if (auto l = flag(f, "limit")) {
            if (!is_number(*l)) return usage_error{"--limit needs a number"};
            params.emplace_back("limit", *l);
        }
        req.target = "/api/v1/cdrs" + query(params);
        inv.shown = view::cdrs;
    } else if (command == "reload") {
        if (auto e = no_arguments()) return *e;
        req.method = "POST";
        req.target = "/api/v1/reload";
        inv.shown = view::reloaded;
    } else if (command == "log-level") {
        if (auto e = split(rest, {}, {}, f)) return *e;
        static constexpr std::string_view levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
        if (f.positional.size() != 1 || std::find(std::begin(levels), std::end(levels), f.positional[0]) == std::end(levels))
            return usage_error{"log-level needs one of trace, debug, info, warn, error, critical, off"};
        inv.subject = f.positional[0];
        req.method = "PUT";
        req.target = "/api/v1/log-level";
        req.body = json_body({{"level", inv.subject}});
        req.content_type = "application/json";
        inv.shown = view::log_level;
    } else if (command == "bans") {
        if (auto e = no_arguments()) return *e;
        req.target = "/api/v1/bans";
        inv.shown = view::bans;
    } else if (command == "ban") {
        if (auto e = split(rest, {"duration"}, {}, f)) return *e;
        if (f.positional.size() != 1) return usage_error{"ban needs one address"};
        inv.subject = f.positional[0];
        boost::json::object body{{"source", inv.subject}};
        if (auto d = flag(f, "duration")) {
            std::int64_t seconds = 0;
            const auto [p, ec] = std::from_chars(d->data(), d->data() + d->size(), seconds);
            if (ec != std::errc() || p != d->data() + d->size() || seconds < 1)
                return usage_error{"--duration needs a whole number of seconds"};
            body["duration_s"] = seconds;
        }
        req.method = "POST";
        req.target = "/api/v1/bans";
        req.body = json_body(body);
        req.content_type = "application/json";
        inv.shown = view::banned;
    } else if (command == "unban") {
        if (auto e = split(rest, {}, {}, f)) return *e;
        if (f.positional.size() != 1) return usage_error{"unban needs one address"};
        inv.subject = f.positional[0];
        req.method = "DELETE";
        req.target = "/api/v1/bans/" + percent_encode(inv.subject);
        inv.shown = view::unbanned;
    } else {
        return usage_error{"unknown command " + command};
    }
    return inv;
}

}  // namespace b2b::admin::ctl
