// JSON answers of the admin API: documents, errors, times.
#pragma once

#include "http/http_server.hpp"

#include <boost/beast/http/status.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace b2b::admin::detail {

/// `body` serialised, as application/json.
http::response json_response(boost::beast::http::status status, const boost::json::value& body);
/// {"error": message, "field": field} (field left out when empty).
http::response json_error(boost::beast::http::status status, std::string_view message, std::string_view field = {});

/// The time as RFC 3339 with milliseconds, or null when there is none.
boost::json::value rfc3339_or_null(const std::optional<std::chrono::system_clock::time_point>& t);

/// Reads RFC 3339 ("2026-12-02T10:00:00Z", fractions and offsets allowed) or a number of
/// seconds since the epoch; nothing when it is neither.
std::optional<std::chrono::system_clock::time_point> parse_time(std::string_view text);
/// "1h", "30m", "90s", "2d" or a number of seconds.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

/// A query parameter's value, percent-decoded ('+' as space); nothing when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name);
/// A path segment, percent-decoded; nothing when it decodes to something unusable.
std::optional<std::string> decode_segment(std::string_view segment);

}  // namespace b2b::admin::detail
