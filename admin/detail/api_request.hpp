// One admin API request as the handlers see it: copied out of the HTTP session (which may be
// gone by the time the answer is ready), split into path segments.
#pragma once

#include "admin/admin_api.hpp"
#include "admin/detail/json_response.hpp"

#include <boost/beast/http/verb.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::admin {

namespace detail {
/// A body read as a JSON object, or the answer saying why it cannot be (415, 400).
struct parsed_body {
    boost::json::object object;
    std::optional<http::response> error;
};
/// Parses `body` sent as `content_type`: JSON (application/json or application/...+json) only.
parsed_body object_body(std::string_view content_type, std::string_view body);
}  // namespace detail

struct admin_api::request {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string path;  ///< after "/api/v1/"
    std::string query;
    std::string body;
    std::string content_type;
    std::string remote;  ///< the client's address:port (for the audit log)
    std::vector<std::string> segments;

    std::optional<std::string> param(std::string_view name) const { return detail::query_param(query, name); }
    /// "PUT /api/v1/trunks/acme", for the audit log and the log line.
    std::string operation() const { return std::string(boost::beast::http::to_string(method)) + " /api/v1/" + path; }
    detail::parsed_body object_body() const { return detail::object_body(content_type, body); }
};

}  // namespace b2b::admin
