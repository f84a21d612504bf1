// Digest algorithm tokens and the HA1/HA2/response computations over OpenSSL EVP digests.
#include "auth/algorithm.hpp"

#include <openssl/evp.h>

#include <array>

#include "auth/detail/text.hpp"

namespace b2b::auth {
namespace {

// The digests, fetched once. A legacy handle such as EVP_md5() makes OpenSSL 3 look the
// algorithm up by name in its provider store, under a lock, on every EVP_Digest: that was half
// the time of a short digest here. Fetched handles are immutable and shareable across threads;
// kept for the process's life (freed at exit, before OpenSSL's own clean-up, which was set up
// before them).
struct fetched_digests {
    EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
    EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    EVP_MD* sha512_256 = EVP_MD_fetch(nullptr, "SHA2-512/256", nullptr);
    fetched_digests() = default;
    fetched_digests(const fetched_digests&) = delete;
    fetched_digests& operator=(const fetched_digests&) = delete;
    ~fetched_digests() {
        EVP_MD_free(md5);
        EVP_MD_free(sha256);
        EVP_MD_free(sha512_256);
    }
};

const EVP_MD* evp_for(algorithm a) noexcept {
    static const fetched_digests fetched;
    switch (a) {
        case algorithm::md5:
        case algorithm::md5_sess:
            return fetched.md5;
        case algorithm::sha256:
        case algorithm::sha256_sess:
            return fetched.sha256;
        // RFC 8760 §2.2 names the FIPS 180-4 function, which has its own initial values; it is
        // not SHA-512 cut to 256 bits (the value RFC 7616 §3.9.2 printed by mistake).
        case algorithm::sha512_256:
        case algorithm::sha512_256_sess:
            return fetched.sha512_256;
    }
    return nullptr;
}

// Joins the parts with ':' into one buffer, then hashes it.
template <std::size_t N>
std::string hash_joined(algorithm a, const std::array<std::string_view, N>& parts) {
    std::size_t size = N - 1;
    for (auto p : parts) size += p.size();
    std::string buf;
    buf.reserve(size);
    for (std::size_t i = 0; i < N; ++i) {
        if (i != 0) buf += ':';
        buf += parts[i];
    }
    return hash_hex(a, buf);
}

}  // namespace

std::optional<algorithm> parse_algorithm(std::string_view token) noexcept {
    using detail::iequals;
    if (iequals(token, "MD5")) return algorithm::md5;
    if (iequals(token, "SHA-256")) return algorithm::sha256;
    if (iequals(token, "SHA-512-256")) return algorithm::sha512_256;
    if (iequals(token, "MD5-sess")) return algorithm::md5_sess;
    if (iequals(token, "SHA-256-sess")) return algorithm::sha256_sess;
    if (iequals(token, "SHA-512-256-sess")) return algorithm::sha512_256_sess;
    return std::nullopt;
}

std::string_view to_string(algorithm a) noexcept {
    switch (a) {
        case algorithm::md5:
            return "MD5";
        case algorithm::sha256:
            return "SHA-256";
        case algorithm::sha512_256:
            return "SHA-512-256";
        case algorithm::md5_sess:
            return "MD5-sess";
        case algorithm::sha256_sess:
            return "SHA-256-sess";
        case algorithm::sha512_256_sess:
            return "SHA-512-256-sess";
    }
    return "unknown";
}

bool is_supported(algorithm a) noexcept {
    switch (a) {
        case algorithm::md5:
        case algorithm::sha256:
        case algorithm::sha512_256:
            return true;
        case algorithm::md5_sess:
        case algorithm::sha256_sess:
        case algorithm::sha512_256_sess:
            return false;
    }
    return false;
}

std::size_t hex_digest_length(algorithm a) noexcept {
    switch (a) {
        case algorithm::md5:
        case algorithm::md5_sess:
            return 32;
        case algorithm::sha256:
        case algorithm::sha256_sess:
        case algorithm::sha512_256:
        case algorithm::sha512_256_sess:
            return 64;
    }
    return 0;
}

std::string hash_hex(algorithm a, std::string_view data) {
    const EVP_MD* md = evp_for(a);
    if (md == nullptr) return {};
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) return {};
    return detail::to_hex(std::span<const std::uint8_t>(out.data(), len));
}

std::string compute_ha1(algorithm a, std::string_view username, std::string_view realm,
                        std::string_view password) {
    return hash_joined(a, std::array{username, realm, password});
}

std::string compute_ha2(algorithm a, std::string_view method, std::string_view uri) {
    return hash_joined(a, std::array{method, uri});
}

std::string compute_response(algorithm a, const response_input& in) {
    if (in.qop.empty()) return hash_joined(a, std::array{in.ha1, in.nonce, in.ha2});
    return hash_joined(a, std::array{in.ha1, in.nonce, in.nc, in.cnonce, in.qop, in.ha2});
}

std::string compute_userhash(algorithm a, std::string_view username, std::string_view realm) {
    return hash_joined(a, std::array{username, realm});
}

}  // namespace b2b::auth
