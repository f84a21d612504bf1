// The TLS contexts: built from PEM files, errors naming the field, the certificate's expiry.
#include "sip/transport/tls_context.hpp"

#include "test_certificates.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

namespace b2b::sip {
namespace {

using std::chrono::system_clock;

std::string error_of(const tls_settings& s) {
    try {
        load_tls(s);
    } catch (const tls_error& e) {
        return e.what();
    }
    return "no error";
}

TEST(tls_context, loads_certificate_and_reads_not_after) {
    test::pki_dir pki("b2b-tls-ctx");
    const auto ca = pki.make("ca", nullptr, 86400 * 30);
    const auto leaf = pki.make("leaf", &ca, 86400 * 10, "IP:127.0.0.1");
    const auto before = system_clock::now();
    const auto loaded = load_tls({leaf.cert_file.string(), leaf.key_file.string(), ca.cert_file.string()});
    ASSERT_TRUE(loaded.server);
    ASSERT_TRUE(loaded.client);
    ASSERT_TRUE(loaded.not_after.has_value());
    // Whole seconds: notAfter was set to now + 10 days while the test ran.
    const auto expected = before + std::chrono::hours(24 * 10);
    EXPECT_LE(std::chrono::abs(*loaded.not_after - expected), std::chrono::seconds(5));
    // TLS 1.2 is the floor on both sides.
    EXPECT_EQ(SSL_CTX_get_min_proto_version(loaded.server->native_handle()), TLS1_2_VERSION);
    EXPECT_EQ(SSL_CTX_get_min_proto_version(loaded.client->native_handle()), TLS1_2_VERSION);
    EXPECT_EQ(SSL_CTX_get_verify_mode(loaded.client->native_handle()) & SSL_VERIFY_PEER, SSL_VERIFY_PEER);
}

TEST(tls_context, a_new_load_reads_the_new_certificate) {
    test::pki_dir pki("b2b-tls-reload");
    const auto ca = pki.make("ca", nullptr, 86400 * 30);
    const auto first = pki.make("first", &ca, 86400 * 5, "IP:127.0.0.1");
    const auto second = pki.make("second", &ca, 86400 * 20, "IP:127.0.0.1");
    const auto a = load_tls({first.cert_file.string(), first.key_file.string(), ca.cert_file.string()});
    const auto b = load_tls({second.cert_file.string(), second.key_file.string(), ca.cert_file.string()});
    ASSERT_TRUE(a.not_after && b.not_after);
    EXPECT_NEAR(std::chrono::duration<double>(*b.not_after - *a.not_after).count(), 86400.0 * 15, 5.0);
    // The first contexts are untouched: connections made with them keep them.
    EXPECT_EQ(certificate_not_after(*a.server), a.not_after);
}

TEST(tls_context, client_only_uses_the_system_store_without_ca) {
    const auto loaded = load_tls({});
    EXPECT_FALSE(loaded.server);
    EXPECT_FALSE(loaded.not_after);
    ASSERT_TRUE(loaded.client);
    EXPECT_EQ(certificate_not_after(*loaded.client), std::nullopt);
}

TEST(tls_context, errors_name_the_field_and_the_file) {
    test::pki_dir pki("b2b-tls-errors");
    const auto ca = pki.make("ca", nullptr, 86400);
    const auto leaf = pki.make("leaf", &ca, 86400, "IP:127.0.0.1");
    const auto other = pki.make("other", &ca, 86400, "IP:127.0.0.1");
    const std::string missing = (pki.path() / "missing.pem").string();

    auto e = error_of({missing, leaf.key_file.string(), {}});
    EXPECT_EQ(e.rfind("sip.tls.certificate: cannot load '" + missing + "'", 0), 0u) << e;
    e = error_of({leaf.cert_file.string(), missing, {}});
    EXPECT_EQ(e.rfind("sip.tls.key: cannot load '" + missing + "'", 0), 0u) << e;
    // Another certificate's key: OpenSSL says "key values mismatch".
    e = error_of({leaf.cert_file.string(), other.key_file.string(), {}});
    EXPECT_EQ(e.rfind("sip.tls.key: cannot load '" + other.key_file.string() + "': key values mismatch", 0), 0u) << e;
    e = error_of({leaf.cert_file.string(), leaf.key_file.string(), missing});
    EXPECT_EQ(e.rfind("sip.tls.ca: cannot load '" + missing + "'", 0), 0u) << e;
    const std::string garbage = (pki.path() / "garbage.pem").string();
    std::ofstream(garbage) << "not a certificate\n";
    e = error_of({garbage, leaf.key_file.string(), {}});
    EXPECT_EQ(e.rfind("sip.tls.certificate: cannot load '" + garbage + "'", 0), 0u) << e;
}

}  // namespace
}  // namespace b2b::sip
