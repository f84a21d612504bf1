// GET /: the status page's access check, headers and route.
#include "admin/status_route.hpp"

#include "admin/status_page.hpp"

#include <boost/beast/http/field.hpp>

#include <memory>
#include <string_view>

namespace b2b::admin {

namespace {

namespace bh = boost::beast::http;

// A refusal is a page of its own that names nothing (no trunk, user or address): whoever
// reaches the port without the token learns only that a login is wanted.
http::response small_page(bh::status status, std::string_view title, std::string_view message) {
    http::response r;
    r.status = status;
    r.content_type = "text/html; charset=utf-8";
    r.body = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>";
    r.body += title;
    r.body += "</title></head>\n<body><h1>";
    r.body += title;
    r.body += "</h1>\n<p>";
    r.body += message;
    r.body += "</p></body></html>\n";
    set_status_page_headers(r);
    return r;
}

}  // namespace

void set_status_page_headers(http::response& r) {
    r.headers.set(bh::field::cache_control, "no-store");
    r.headers.set("Content-Security-Policy",
                  "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    r.headers.set("X-Content-Type-Options", "nosniff");
    // For browsers that predate frame-ancestors (CSP level 2).
    r.headers.set(bh::field::x_frame_options, "DENY");
    r.headers.set("Referrer-Policy", "no-referrer");
}

std::optional<http::response> status_page_refusal(const access_token& token, std::string_view authorization) {
    switch (token.check(authorization)) {
        case access_token::access::granted: return std::nullopt;
        case access_token::access::off:
            return small_page(bh::status::forbidden, "403 Forbidden",
                              "The status page and the admin API are off: set admin.token_file (or admin.token, or "
                              "the environment variable B2BUA_ADMIN_TOKEN) and restart.");
        case access_token::access::refused: {
            auto r = small_page(bh::status::unauthorized, "401 Unauthorized",
                                "Log in with the admin token as the password (any user name).");
            // RFC 7617 §2 and §2.1: Basic, so a browser asks for the token; charset says the
            // credentials are UTF-8.
            r.headers.set(bh::field::www_authenticate, "Basic realm=\"b2bua\", charset=\"UTF-8\"");
            return r;
        }
    }
    return std::nullopt;
}

http::response status_page_answer(const status_snapshot& s) {
    http::response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = render_status_page(s);
    set_status_page_headers(r);
    return r;
}

void add_status_page(http::http_server& server, access_token token, status_source source) {
    auto handler = [token = std::move(token), source = std::move(source)](const http::request& in,
                                                                         http::responder out) {
        const auto authorization = in.headers.find(bh::field::authorization);
        const std::string_view credentials =
            authorization == in.headers.end() ? std::string_view() : std::string_view(authorization->value());
        if (auto refusal = status_page_refusal(token, credentials)) return out(std::move(*refusal));
        source([out](status_snapshot s) { out(status_page_answer(s)); });
    };
    server.add_async_route(bh::verb::get, "/", std::move(handler));
}

}  // namespace b2b::admin
