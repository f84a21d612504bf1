// The admin API's bearer token.
#include "admin/access_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace b2b::admin {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

// "Scheme rest": the rest when the scheme matches.
std::optional<std::string_view> after_scheme(std::string_view value, std::string_view scheme) {
    value = trim(value);
    if (value.size() <= scheme.size() || !iequals(value.substr(0, scheme.size()), scheme) || value[scheme.size()] != ' ') {
        return std::nullopt;
    }
    return trim(value.substr(scheme.size() + 1));
}

bool same(std::string_view given, const std::string& token) {
    // The lengths may differ; CRYPTO_memcmp needs equal ones. Comparing against the token's
    // own length reveals only the length, which is not the secret.
    if (given.size() != token.size()) return false;
    return CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

}  // namespace

access_token access_token::load(const std::string& token, const std::string& token_file) {
    if (!token.empty()) return access_token(token);
    if (!token_file.empty()) {
        std::ifstream in(token_file, std::ios::binary);
        if (!in) throw std::runtime_error("admin.token_file: cannot read " + token_file);
        std::ostringstream text;
        text << in.rdbuf();
        // trim gives a view: the text it views must outlive it (str() returns a temporary).
        const std::string content = text.str();
        const auto value = trim(content);
        if (value.empty()) throw std::runtime_error("admin.token_file: " + token_file + " is empty");
        return access_token(std::string(value));
    }
    if (const char* env = std::getenv("B2BUA_ADMIN_TOKEN"); env != nullptr && !trim(env).empty()) {
        return access_token(std::string(trim(env)));
    }
    return {};
}

bool access_token::admits(std::string_view authorization) const {
    if (token_.empty()) return false;
    if (const auto bearer = detail::bearer_token(authorization)) return same(*bearer, token_);
    if (const auto password = detail::basic_password(authorization)) return same(*password, token_);
    return false;
}

access_token::access access_token::check(std::string_view authorization) const {
    if (!enabled()) return access::off;
    return admits(authorization) ? access::granted : access::refused;
}

namespace detail {

std::optional<std::string_view> bearer_token(std::string_view authorization) {
    auto rest = after_scheme(authorization, "Bearer");
    if (!rest || rest->empty()) return std::nullopt;
    return rest;
}

std::optional<std::string> basic_password(std::string_view authorization) {
    const auto encoded = after_scheme(authorization, "Basic");
    if (!encoded || encoded->empty() || encoded->size() % 4 != 0 || encoded->size() > 4096) return std::nullopt;
    std::vector<unsigned char> out(encoded->size() / 4 * 3 + 1);
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(encoded->data()),
                                  static_cast<int>(encoded->size()));
    if (n < 0) return std::nullopt;
    // EVP_DecodeBlock counts the padding as zero bytes: take them off.
    std::size_t length = static_cast<std::size_t>(n);
    if (encoded->ends_with("==")) {
        length -= 2;
    } else if (encoded->ends_with("=")) {
        length -= 1;
    }
    const std::string decoded(reinterpret_cast<const char*>(out.data()), length);
    const auto colon = decoded.find(':');
    if (colon == std::string::npos) return std::nullopt;
    return decoded.substr(colon + 1);
}

}  // namespace detail

}  // namespace b2b::admin
