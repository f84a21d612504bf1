// User credentials and the in-memory credential store.
#include "auth/credential_store.hpp"

#include <stdexcept>
#include <utility>

#include "auth/detail/text.hpp"

namespace b2b::auth {

bool user_credentials::can_verify(algorithm a) const noexcept {
    if (!is_supported(a)) return false;
    return password.has_value() || ha1.contains(a);
}

std::optional<std::string> user_credentials::ha1_for(algorithm a, std::string_view realm) const {
    if (!is_supported(a)) return std::nullopt;
    if (auto it = ha1.find(a); it != ha1.end()) return it->second;
    if (password) return compute_ha1(a, username, realm, *password);
    return std::nullopt;
}

void in_memory_credential_store::set_user(user_credentials user) {
    if (user.username.empty()) throw std::invalid_argument("user name must not be empty");
    if (!user.password && user.ha1.empty())
        throw std::invalid_argument("user " + user.username + " has neither password nor HA1");
    for (auto& [alg, value] : user.ha1) {
        if (!is_supported(alg))
            throw std::invalid_argument("user " + user.username +
                                        ": HA1 for unsupported algorithm " +
                                        std::string(to_string(alg)));
        bool hex = value.size() == hex_digest_length(alg);
        for (char c : value) hex = hex && detail::is_hex_digit(c);
        if (!hex)
            throw std::invalid_argument("user " + user.username + ": HA1 for " +
                                        std::string(to_string(alg)) + " must be " +
                                        std::to_string(hex_digest_length(alg)) + " hex digits");
        value = detail::to_lower(value);
    }
    std::string key = user.username;
    users_.insert_or_assign(std::move(key), std::move(user));
}

bool in_memory_credential_store::remove_user(std::string_view username) {
    const auto it = users_.find(username);
    if (it == users_.end()) return false;
    users_.erase(it);
    return true;
}

std::optional<user_credentials> in_memory_credential_store::find(std::string_view username) const {
    const auto it = users_.find(username);
    if (it == users_.end()) return std::nullopt;
    return it->second;
}

}  // namespace b2b::auth
