// The Contact user we register: a keyed hash of the trunk's name, stable across restarts.
#include "registration/contact_token.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <climits>
#include <stdexcept>

namespace b2b::registration {

std::string contact_user(std::string_view trunk_name, std::string_view username, std::string_view password) {
    // The key holds both credentials: whoever does not know them cannot compute the token,
    // so cannot send calls "to the trunk's Contact" from an address we would otherwise not trust.
    std::string key;
    key.reserve(username.size() + 1 + password.size());
    key.append(username).append(":").append(password);
    if (key.size() > INT_MAX) throw std::length_error("contact_user: credentials too long");

    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_size = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(trunk_name.data()), trunk_name.size(), mac.data(),
             &mac_size) == nullptr ||
        mac_size < 16) {
        throw std::runtime_error("contact_user: HMAC-SHA256 failed");
    }
    // 128 of the 256 bits: as unguessable as a Call-ID, and short enough for a URI user part.
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(32);
    for (std::size_t i = 0; i < 16; ++i) {
        out += digits[mac[i] >> 4];
        out += digits[mac[i] & 0x0f];
    }
    return out;
}

}  // namespace b2b::registration
