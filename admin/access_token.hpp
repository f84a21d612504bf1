// The admin API's bearer token: where it comes from, and checking a request's credentials.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace b2b::admin {

/// The token every /api/v1 request must carry. Empty = the API is off.
///
/// Taken from the configuration (`admin.token`), else the file it names (`admin.token_file`,
/// surrounding whitespace removed), else the environment variable B2BUA_ADMIN_TOKEN.
class access_token {
public:
    access_token() = default;
    explicit access_token(std::string token) : token_(std::move(token)) {}

    /// Throws std::runtime_error naming the file when `token_file` is set but unreadable or
    /// empty (a startup error: an operator who configured a token must not get an open API or
    /// a silently closed one).
    static access_token load(const std::string& token, const std::string& token_file);

    bool enabled() const noexcept { return !token_.empty(); }

    /// Whether an Authorization header value grants access: "Bearer <token>", or HTTP Basic
    /// with the token as the password (any user name), so a browser can log in. Compared in
    /// constant time: the comparison must not tell an attacker how much of a guess was right.
    bool admits(std::string_view authorization) const;

    /// What a request with this Authorization header value gets: `off` when no token is
    /// configured (403: nothing can admit it), else `granted` or `refused` (401) as `admits`
    /// says. The admin API and the status page answer from this one check.
    enum class access : std::uint8_t { granted, refused, off };
    access check(std::string_view authorization) const;

private:
    std::string token_;
};

namespace detail {
/// The password of an HTTP Basic credential ("Basic base64(user:password)"), if well formed.
std::optional<std::string> basic_password(std::string_view authorization);
/// The token of "Bearer <token>" (scheme case-insensitive, RFC 6750 §2.1), if present.
std::optional<std::string_view> bearer_token(std::string_view authorization);
}  // namespace detail

}  // namespace b2b::admin
