// One HTTP/1.1 exchange with the admin API, over TCP or TLS (Beast, synchronous).
#pragma once

#include "admin/ctl/command_line.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace b2b::admin::ctl {

/// The parts of the --url that matter: http or https, host, port, path prefix.
struct base_url {
    bool tls = false;
    std::string host;  ///< without IPv6 brackets
    std::string port;  ///< "9090"; the scheme's default when absent
    std::string path;  ///< prefix without trailing '/' ("" for none)
};

/// Parses "http://127.0.0.1:9090", "https://admin.example/b2bua", "http://[::1]:9090".
std::optional<base_url> parse_base_url(std::string_view url);

struct api_response {
    int status = 0;
    std::string reason;
    std::string body;
};

/// Why no answer came: the sentence to print, exit code 3.
struct transport_failure {
    std::string message;
};

/// Sends `req` with `Authorization: Bearer token` (when a token is given) and reads the
/// answer; gives up after `timeout` without progress. Over TLS the server's certificate is
/// verified against the system's CAs (or SSL_CERT_FILE) and the URL's host name.
std::variant<api_response, transport_failure> exchange(const base_url& url, const api_request& req,
                                                       const std::string& token,
                                                       std::chrono::seconds timeout = std::chrono::seconds(30));

}  // namespace b2b::admin::ctl
