// The b2b.sip error category, status mapping and parse_error formatting.
#include "sip/message/error.hpp"

#include <gtest/gtest.h>

#include <boost/system/system_error.hpp>

namespace b2b::sip {
namespace {

TEST(Error, Category) {
    const boost::system::error_code ec = errc::bad_cseq;
    EXPECT_STREQ(ec.category().name(), "b2b.sip");
    EXPECT_EQ(ec.message(), "Bad CSeq");
    EXPECT_EQ(&ec.category(), &sip_category());
    EXPECT_EQ(make_error_code(errc::bad_via).value(), static_cast<int>(errc::bad_via));
    EXPECT_EQ(sip_category().message(static_cast<int>(errc::ok)), "Success");
    EXPECT_EQ(sip_category().message(999), "Unknown SIP error");
    // Every code has its own message.
    for (int i = 1; i <= static_cast<int>(errc::bad_uri); ++i) {
        EXPECT_NE(sip_category().message(i), "Unknown SIP error") << i;
        for (int j = 1; j < i; ++j) {
            EXPECT_NE(sip_category().message(i), sip_category().message(j));
        }
    }
}

TEST(Error, StatusFor) {
    EXPECT_EQ(status_for(errc::version_not_supported), 505);
    EXPECT_EQ(status_for(errc::bad_cseq), 400);
    EXPECT_EQ(status_for(errc::missing_header), 400);
    EXPECT_EQ(status_for(errc::message_too_large), 400);
}

TEST(Error, WhatIsOnePrintableLine) {
    EXPECT_EQ((parse_error{errc::bad_cseq, "sequence number 9 exceeds 2^31-1"}).what(),
              "Bad CSeq: sequence number 9 exceeds 2^31-1");
    EXPECT_EQ((parse_error{errc::empty_message, ""}).what(), "Empty message");
    const std::string w =
        parse_error{errc::bad_header_value, std::string("a\r\nb\0\xff", 6)}.what();
    EXPECT_EQ(w, "Bad header value: a??b??");
    const std::string longer = parse_error{errc::bad_uri, std::string(1000, 'x')}.what();
    EXPECT_LE(longer.size(), 200U);
}

TEST(Error, ValueThrowsSystemError) {
    const parse_result<int> r = parse_error{errc::bad_uri, "x"};
    try {
        (void)r.value();
        ADD_FAILURE() << "no exception";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::bad_uri));
    }
}

}  // namespace
}  // namespace b2b::sip
