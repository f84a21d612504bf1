// JSON answers of the admin API.
#include "admin/detail/json_response.hpp"

#include "admin/detail/api_request.hpp"
#include "b2bua/auth_failure_json.hpp"

#include <boost/json/parse.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>

namespace b2b::admin::detail {

boost::json::value rfc3339_or_null(const std::optional<std::chrono::system_clock::time_point>& t) {
    if (!t) return nullptr;
    return boost::json::value(b2bua::rfc3339_ms(*t));
}

namespace json = boost::json;

http::response json_response(boost::beast::http::status status, const json::value& body) {
    http::response r;
    r.status = status;
    r.content_type = "application/json";
    r.body = json::serialize(body);
    r.body += '\n';
    return r;
}

http::response json_error(boost::beast::http::status status, std::string_view message, std::string_view field) {
    json::object o;
    o["error"] = message;
    if (!field.empty()) o["field"] = field;
    return json_response(status, o);
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            const int h = hex(s[i + 1]);
            const int l = hex(s[i + 2]);
            if (h < 0 || l < 0) return std::nullopt;
            out += static_cast<char>(h * 16 + l);
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

namespace {

bool is_json(std::string_view content_type) {
    auto type = content_type.substr(0, content_type.find(';'));
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    std::string lower(type);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower == "application/json" || (lower.starts_with("application/") && lower.ends_with("+json"));
}

}  // namespace

parsed_body object_body(std::string_view content_type, std::string_view body) {
    parsed_body out;
    if (!is_json(content_type)) {
        out.error = json_error(boost::beast::http::status::unsupported_media_type,
                               "the body must be JSON (Content-Type: application/json)");
        return out;
    }
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec) {
        out.error = json_error(boost::beast::http::status::bad_request, "the body is not valid JSON: " + ec.message());
    } else if (!v.is_object()) {
        out.error = json_error(boost::beast::http::status::bad_request, "the body must be a JSON object");
    } else {
        out.object = std::move(v.as_object());
    }
    return out;
}

std::optional<std::chrono::system_clock::time_point> parse_time(std::string_view text) {
    if (text.empty()) return std::nullopt;
    if (text.find_first_not_of("0123456789") == std::string_view::npos) {
        long long secs = 0;
        const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
        if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
        return std::chrono::system_clock::time_point(std::chrono::seconds(secs));
    }
    // YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]
    std::tm tm{};
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!digits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' || !digits(text, 5, 2, month) ||
        text[7] != '-' || !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
        !digits(text, 11, 2, hour) || text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
        !digits(text, 17, 2, second)) {
        return std::nullopt;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    std::size_t pos = 19;
    long long millis = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        long long scale = 100;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            millis += (text[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
    }
    long long offset = 0;
    if (pos < text.size()) {
        if (text[pos] == 'Z' || text[pos] == 'z') {
            ++pos;
        } else if (text[pos] == '+' || text[pos] == '-') {
            int oh = 0, om = 0;
            if (!digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
                !digits(text, pos + 4, 2, om)) {
                return std::nullopt;
            }
            offset = (text[pos] == '+' ? 1 : -1) * (oh * 3600LL + om * 60LL);
            pos += 6;
        }
    }
    if (pos != text.size()) return std::nullopt;
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    const std::time_t secs = timegm(&tm);
    return std::chrono::system_clock::time_point(std::chrono::seconds(secs - offset) + std::chrono::milliseconds(millis));
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    long long scale = 1;
    switch (text.back()) {
        case 's': scale = 1; text.remove_suffix(1); break;
        case 'm': scale = 60; text.remove_suffix(1); break;
        case 'h': scale = 3600; text.remove_suffix(1); break;
        case 'd': scale = 86400; text.remove_suffix(1); break;
        default: break;
    }
    long long n = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || p != text.data() + text.size() || n <= 0 || n > 3650LL * 86400 / scale) {
        return std::nullopt;
    }
    return std::chrono::seconds(n * scale);
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const auto eq = pair.find('=');
        const auto key = pair.substr(0, eq);
        if (key != name) continue;
        const auto value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        return percent_decode(value, true);
    }
    return std::nullopt;
}

std::optional<std::string> decode_segment(std::string_view segment) {
    auto decoded = percent_decode(segment, false);
    if (!decoded || decoded->empty() || decoded->find('/') != std::string::npos) return std::nullopt;
    return decoded;
}

}  // namespace b2b::admin::detail
