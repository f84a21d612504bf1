// Interop with SIPp 3.6.1: credentials it actually sent on the wire, verified by digest_server.
//
// Captured once on 127.0.0.1: a UDP responder answered SIPp's INVITE with
//   Proxy-Authenticate: Digest realm="pbx.local", nonce="<N>", opaque="op", algorithm=MD5,
//   qop="auth"
// where <N> was a signed nonce in our first format (time ‖ random ‖ HMAC, before nonces were
// bound to the source address), and SIPp ran with `-s 1000 -au pbxuser -ap Secret-42 [-auth_uri 1000@127.0.0.1:5070]`. The
// Proxy-Authorization values below are what SIPp sent back, byte for byte. The response values
// were computed by SIPp, not by us, so these tests check our parser and response check against
// an independent implementation. The nonce format has changed since, so a fake nonce service
// vouches for <N>; nonce_test.cpp covers the real one.
#include <gtest/gtest.h>

#include <memory>
#include <string_view>

#include "auth/digest_header.hpp"
#include "auth/server.hpp"
#include "tests/unit/auth/fake_nonce_service.hpp"

namespace b2b::auth {
namespace {

using std::chrono::seconds;
const std::chrono::system_clock::time_point issued{seconds{1'700'000'000}};

constexpr std::string_view request_uri = "sip:1000@127.0.0.1:5070";
constexpr std::string_view captured_nonce =
    "AAAAAGVT8QABAgMEBQYHCFZtAOJaBD_-Bn4i6odw6VKx87JK9e9gHX1j3wYSmDBG";

// With -auth_uri: SIPp puts the Request-URI in uri=.
constexpr std::string_view sipp_with_auth_uri =
    R"(Digest username="pbxuser",realm="pbx.local",cnonce="6b8b4567",nc=00000001,qop=auth,)"
    R"(uri="sip:1000@127.0.0.1:5070",nonce="AAAAAGVT8QABAgMEBQYHCFZtAOJaBD_-Bn4i6odw6VKx87JK9e9gHX1j3wYSmDBG",)"
    R"(response="a6e565d4c54ea5aecab4890f09b83548",algorithm=MD5,opaque="op")";

// Without -auth_uri: SIPp's default digest uri is "sip:" remote_ip ":" remote_port.
constexpr std::string_view sipp_default_uri =
    R"(Digest username="pbxuser",realm="pbx.local",cnonce="6b8b4567",nc=00000001,qop=auth,)"
    R"(uri="sip:127.0.0.1:5070",nonce="AAAAAGVT8QABAgMEBQYHCFZtAOJaBD_-Bn4i6odw6VKx87JK9e9gHX1j3wYSmDBG",)"
    R"(response="200e89d696bb5f5c4aaca94f599a4062",algorithm=MD5,opaque="op")";

class sipp_interop : public ::testing::Test {
  protected:
    sipp_interop() {
        user_credentials u;
        u.username = "pbxuser";
        u.password = "Secret-42";
        store_.set_user(u);
        config_.realm = "pbx.local";
        config_.algorithms = {algorithm::md5};  // SIPp 3.6.1 only does MD5, first challenge only
        config_.opaque = "op";
    }

    verify_result verify(std::string_view value, std::string_view uri,
                         nonce_status status = nonce_status::valid) const {
        auto nonces = std::make_unique<test::fake_nonce_service>(std::string(captured_nonce));
        nonces->status = status;
        digest_server server(config_, store_, std::move(nonces));
        const std::string_view values[] = {value};
        return server.verify(values, "INVITE", uri, boost::asio::ip::make_address("127.0.0.1"),
                             issued + seconds{1});
    }

    in_memory_credential_store store_;
    server_config config_;
};

TEST_F(sipp_interop, parser_reads_sipp_form) {
    const auto c = parse_credentials(sipp_with_auth_uri);
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c.value().nc, "00000001");
    EXPECT_EQ(c.value().qop, "auth");
    EXPECT_EQ(c.value().uri, request_uri);
    EXPECT_EQ(c.value().opaque, "op");
}

TEST_F(sipp_interop, sipp_answer_with_auth_uri_is_accepted) {
    const auto r = verify(sipp_with_auth_uri, request_uri);
    EXPECT_TRUE(r.authenticated()) << r.detail;
    EXPECT_EQ(r.username, "pbxuser");
    EXPECT_EQ(r.alg, algorithm::md5);
}

TEST_F(sipp_interop, sipp_answer_is_refused_with_another_password) {
    store_.set_user({"pbxuser", std::string("Secret-43"), {}});
    const auto r = verify(sipp_with_auth_uri, request_uri);
    ASSERT_TRUE(r.reason);
    EXPECT_EQ(*r.reason, failure::wrong_password);
}

TEST_F(sipp_interop, sipp_answer_with_an_expired_nonce_is_stale) {
    const auto r = verify(sipp_with_auth_uri, request_uri, nonce_status::stale);
    EXPECT_TRUE(r.stale()) << r.detail;
}

TEST_F(sipp_interop, sipp_answer_with_an_expired_nonce_and_another_password_is_wrong) {
    store_.set_user({"pbxuser", std::string("Secret-43"), {}});
    const auto r = verify(sipp_with_auth_uri, request_uri, nonce_status::stale);
    ASSERT_TRUE(r.reason);
    EXPECT_EQ(*r.reason, failure::wrong_password);
}

// SIPp without -auth_uri hashes a uri that is not the Request-URI; we refuse that (scenarios
// must pass -auth_uri). The response itself is right for the uri SIPp used, which shows only
// the uri check stands in the way.
TEST_F(sipp_interop, sipp_default_uri_is_a_uri_mismatch) {
    const auto r = verify(sipp_default_uri, request_uri);
    ASSERT_TRUE(r.reason) << r.detail;
    EXPECT_EQ(*r.reason, failure::uri_mismatch);
    const auto same_uri = verify(sipp_default_uri, "sip:127.0.0.1:5070");
    EXPECT_TRUE(same_uri.authenticated()) << same_uri.detail;
}

}  // namespace
}  // namespace b2b::auth
