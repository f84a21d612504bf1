// GET / on the HTTP server: the status page behind the admin token, answered asynchronously.
#pragma once

#include "admin/access_token.hpp"
#include "admin/status_snapshot.hpp"
#include "http/http_server.hpp"

#include <functional>
#include <optional>
#include <string_view>

namespace b2b::admin {

/// Gathers the page's facts for one request. Called on the HTTP thread; hands the snapshot to
/// `done` later, from any thread (the admin API posts to the SIP loop and back: the core's
/// state is read only there). Not calling `done` leaves the request to the server's answer
/// timeout (503).
using status_source = std::function<void(std::function<void(status_snapshot)> done)>;

/// Adds GET "/" to `server`: the status page for a request whose Authorization the token admits
/// (HTTP Basic with the token as the password, any user name, so a browser asks for it; or
/// Bearer), 401 with a Basic challenge otherwise, and 403 when no token is configured (the admin
/// API's answers, from the same check). A refusal names nothing of the system. Every answer
/// carries `status_page_headers`.
void add_status_page(http::http_server& server, access_token token, status_source source);

/// What the status page's answers carry beyond Content-Type: no caching (it holds names and
/// addresses), and a Content-Security-Policy that allows inline style and nothing else (no
/// script, no framing, no fetch), with nosniff.
void set_status_page_headers(http::response& r);

/// The answer to GET / with `authorization` as the Authorization header value, when it is a
/// refusal (401 or 403); nothing when the token admits it.
std::optional<http::response> status_page_refusal(const access_token& token, std::string_view authorization);

/// The page for `s` as a 200 answer.
http::response status_page_answer(const status_snapshot& s);

}  // namespace b2b::admin
