// Route table of the HTTP server: exact paths and "prefix*" patterns, with handlers per method.
#pragma once

#include "http/http_server.hpp"

#include <boost/beast/http/verb.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>

namespace b2b::http::detail {

/// What answers a route: a handler returning the response, or one answering later.
using route = std::variant<route_handler, async_route_handler>;

/// The outcome of looking a request up: a handler, or why there is none.
struct route_match {
    /// Null when nothing matched: then `allow` tells 405 (the matched path's methods) from 404.
    const route* handler = nullptr;
    /// For a prefix route, the path after the prefix.
    std::string_view rest;
    /// "GET, PUT" when the path matched but not the method; empty otherwise.
    std::string allow;
};

/// Maps (method, path) to a handler. A pure lookup structure; not thread-safe.
class router {
public:
    /// See `http_server::add_route`; throws std::invalid_argument on the same conditions.
    void add(boost::beast::http::verb method, std::string pattern, route handler);

    /// Exact routes first, then the longest matching prefix. The result's `handler` and
    /// `rest` point into this router and `path`.
    route_match find(boost::beast::http::verb method, std::string_view path) const;

private:
    using methods = std::map<boost::beast::http::verb, route>;

    std::map<std::string, methods, std::less<>> exact_;
    /// Keyed by the prefix without its '*'.
    std::map<std::string, methods, std::less<>> prefixes_;
};

}  // namespace b2b::http::detail
