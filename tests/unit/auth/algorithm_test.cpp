// Algorithm tokens and the hash formulas.
#include "auth/algorithm.hpp"

#include <gtest/gtest.h>

namespace b2b::auth {
namespace {

TEST(algorithm, tokens_parse_case_insensitively) {
    EXPECT_EQ(parse_algorithm("MD5"), algorithm::md5);
    EXPECT_EQ(parse_algorithm("md5"), algorithm::md5);
    EXPECT_EQ(parse_algorithm("sha-256"), algorithm::sha256);
    EXPECT_EQ(parse_algorithm("SHA-512-256"), algorithm::sha512_256);
    EXPECT_EQ(parse_algorithm("Sha-512-256"), algorithm::sha512_256);
    EXPECT_EQ(parse_algorithm("MD5-sess"), algorithm::md5_sess);
    EXPECT_EQ(parse_algorithm("SHA-256-SESS"), algorithm::sha256_sess);
    EXPECT_EQ(parse_algorithm("sha-512-256-sess"), algorithm::sha512_256_sess);
}

TEST(algorithm, unknown_tokens_are_rejected) {
    EXPECT_FALSE(parse_algorithm(""));
    EXPECT_FALSE(parse_algorithm("SHA-1"));
    EXPECT_FALSE(parse_algorithm("SHA256"));
    EXPECT_FALSE(parse_algorithm("SHA-512"));
    EXPECT_FALSE(parse_algorithm("SHA-512/256"));
    EXPECT_FALSE(parse_algorithm("MD5 "));
    EXPECT_FALSE(parse_algorithm("AKAv1-MD5"));
}

TEST(algorithm, to_string_round_trips_and_sess_is_unsupported) {
    for (auto a : {algorithm::md5, algorithm::sha256, algorithm::sha512_256, algorithm::md5_sess,
                   algorithm::sha256_sess, algorithm::sha512_256_sess}) {
        EXPECT_EQ(parse_algorithm(to_string(a)), a);
    }
    EXPECT_EQ(to_string(algorithm::sha512_256), "SHA-512-256");
    EXPECT_TRUE(is_supported(algorithm::md5));
    EXPECT_TRUE(is_supported(algorithm::sha256));
    EXPECT_TRUE(is_supported(algorithm::sha512_256));
    EXPECT_FALSE(is_supported(algorithm::md5_sess));
    EXPECT_FALSE(is_supported(algorithm::sha256_sess));
    EXPECT_FALSE(is_supported(algorithm::sha512_256_sess));
}

// Known answers (FIPS 180-4 examples and RFC 1321): "abc" and the empty string.
TEST(algorithm, hashes_match_known_answers) {
    EXPECT_EQ(hash_hex(algorithm::md5, ""), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(hash_hex(algorithm::md5, "abc"), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(hash_hex(algorithm::sha256, "abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hash_hex(algorithm::sha512_256, ""),
              "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a");
    EXPECT_EQ(hash_hex(algorithm::sha512_256, "abc"),
              "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23");
    EXPECT_EQ(hex_digest_length(algorithm::md5), 32u);
    EXPECT_EQ(hex_digest_length(algorithm::sha512_256), 64u);
}

TEST(algorithm, formulas_join_with_colons) {
    const auto a = algorithm::sha256;
    EXPECT_EQ(compute_ha1(a, "u", "r", "p"), hash_hex(a, "u:r:p"));
    EXPECT_EQ(compute_ha2(a, "INVITE", "sip:x@y"), hash_hex(a, "INVITE:sip:x@y"));
    EXPECT_EQ(compute_userhash(a, "u", "r"), hash_hex(a, "u:r"));
    EXPECT_EQ(compute_response(a, {.ha1 = "H1",
                                   .nonce = "n",
                                   .nc = "00000001",
                                   .cnonce = "c",
                                   .qop = "auth",
                                   .ha2 = "H2"}),
              hash_hex(a, "H1:n:00000001:c:auth:H2"));
    // RFC 2069 form: nc and cnonce are ignored without qop.
    EXPECT_EQ(
        compute_response(
            a,
            {.ha1 = "H1", .nonce = "n", .nc = "00000001", .cnonce = "c", .qop = "", .ha2 = "H2"}),
        hash_hex(a, "H1:n:H2"));
}

}  // namespace
}  // namespace b2b::auth
