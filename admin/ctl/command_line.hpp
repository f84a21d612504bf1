// b2buactl's command line: global options, one command, and the API request it makes.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace b2b::admin::ctl {

/// The default URL of the admin API (the HTTP server's default listen address).
inline constexpr std::string_view default_url = "http://127.0.0.1:9090";

/// What a command asks of the admin API.
struct api_request {
    std::string method;        ///< "GET", "POST", "PUT", "PATCH", "DELETE"
    std::string target;        ///< path and query, percent-encoded: "/api/v1/trunks/acme?force=true"
    std::string body;          ///< JSON; empty = none
    std::string content_type;  ///< of the body
};

/// How a successful answer is shown as text.
enum class view : unsigned char {
    trunks,
    trunk,
    trunk_deleted,
    trunk_rotated,
    registrations,
    register_started,
    failures,
    summary,
    calls,
    call,
    hangup,
    cdrs,
    reloaded,
    log_level,
    bans,
    banned,
    unbanned,
};

/// A parsed invocation.
struct invocation {
    std::string url;    ///< base URL: --url, else B2BUA_URL, else default_url
    std::string token;  ///< from --token-file, else B2BUA_ADMIN_TOKEN; empty = none
    bool json = false;  ///< print the API's JSON body unchanged
    api_request request;
    view shown = view::trunks;
    std::string subject;  ///< the name or id the command is about (for messages)
};

/// A command line that cannot be run: the sentence to print, exit code 2.
struct usage_error {
    std::string message;
};

/// Reads a file whole (the token and password files); nullopt when it cannot be read.
using file_reader = std::function<std::optional<std::string>(const std::string& path)>;
/// Looks an environment variable up; nullopt when unset.
using env_reader = std::function<std::optional<std::string>(std::string_view name)>;

/// Parses `args` (without the program name). Global options (--url, --token-file, --json)
/// may come anywhere; a token or password read from a file loses its trailing white space.
std::variant<invocation, usage_error> parse_command_line(const std::vector<std::string>& args,
                                                         const env_reader& env, const file_reader& read_file);

/// The text printed for `b2buactl --help` and after a usage error.
std::string_view usage_text() noexcept;

/// RFC 3986 percent-encoding of everything but unreserved characters (a path segment or a
/// query value).
std::string percent_encode(std::string_view s);

}  // namespace b2b::admin::ctl
