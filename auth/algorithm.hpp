// Digest algorithms (RFC 7616 §3.2, RFC 8760 §2) and the HA1 / HA2 / response formulas.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace b2b::auth {

/// A Digest `algorithm` parameter value. The `-sess` variants are recognised so they can be
/// reported precisely, but no function here computes their session A1: `is_supported` is false
/// for them and both sides reject them as unsupported_algorithm.
enum class algorithm : std::uint8_t {
    md5,
    sha256,
    sha512_256,  ///< FIPS 180-4 SHA-512/256 (RFC 8760 §2.2), not truncated SHA-512
    md5_sess,
    sha256_sess,
    sha512_256_sess,
};

/// Reads an `algorithm` token, case-insensitively ("md5", "SHA-256", "SHA-512-256",
/// "MD5-sess", ...). Unknown or empty tokens give nullopt. An absent parameter means MD5
/// (RFC 7616 §3.3); that default is applied by the callers, not here.
std::optional<algorithm> parse_algorithm(std::string_view token) noexcept;

/// The token as written on the wire: "MD5", "SHA-256", "SHA-512-256", "MD5-sess", ...
std::string_view to_string(algorithm a) noexcept;

/// False for the `-sess` variants.
bool is_supported(algorithm a) noexcept;

/// Lower-case hex of H(data) with the algorithm's hash function (the `-sess` variants use the
/// hash of their base algorithm). Returns an empty string only if OpenSSL cannot provide the
/// hash (e.g. MD5 in a FIPS-only configuration); an empty digest never compares equal to a
/// client's response, so that case fails closed.
std::string hash_hex(algorithm a, std::string_view data);

/// HA1 = H(username ":" realm ":" password) (RFC 7616 §3.4.2, non-session form).
/// Strings are hashed as given: pass UTF-8.
std::string compute_ha1(algorithm a, std::string_view username, std::string_view realm,
                        std::string_view password);

/// HA2 = H(method ":" uri) for qop=auth or no qop (RFC 7616 §3.4.3).
std::string compute_ha2(algorithm a, std::string_view method, std::string_view uri);

/// Inputs of the response formula, all as they appear on the wire (nc is the 8 hex digits).
struct response_input {
    std::string_view ha1;
    std::string_view nonce;
    std::string_view nc;      ///< ignored when qop is empty
    std::string_view cnonce;  ///< ignored when qop is empty
    std::string_view qop;     ///< "auth", or empty for the RFC 2069 form
    std::string_view ha2;
};

/// response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2) (RFC 7616 §3.4.1), or
/// H(HA1 ":" nonce ":" HA2) when qop is empty (RFC 2069, kept by RFC 2617 §3.2.2.1).
std::string compute_response(algorithm a, const response_input& in);

/// userhash = H(username ":" realm) (RFC 7616 §3.4.4).
std::string compute_userhash(algorithm a, std::string_view username, std::string_view realm);

/// Length in hex characters of the algorithm's digests (32 for MD5, 64 for the others).
std::size_t hex_digest_length(algorithm a) noexcept;

}  // namespace b2b::auth
