// Text helpers: case folding, trimming, unquoting, token test and parameter lookup.
#include "sip/message/text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace b2b::sip {
namespace {

TEST(Text, CaseInsensitiveCompare) {
    EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
    EXPECT_FALSE(iequals("Content-Length", "Content-Lengt"));
    EXPECT_FALSE(iequals("a", "b"));
    EXPECT_TRUE(iequals("", ""));
    // Only ASCII letters fold: '@' (0x40) and '`' (0x60) differ by the case bit but are not
    // letters.
    EXPECT_FALSE(iequals("@", "`"));
    EXPECT_FALSE(iequals("[", "{"));
    EXPECT_TRUE(istarts_with("SIP/2.0", "sip/"));
    EXPECT_FALSE(istarts_with("SI", "sip/"));
    EXPECT_EQ(ascii_lower('Q'), 'q');
    EXPECT_EQ(ascii_lower('\xC4'), '\xC4');
}

TEST(Text, TrimLws) {
    EXPECT_EQ(trim_lws("  a b \t"), "a b");
    EXPECT_EQ(trim_lws("\r\n a\r\n b\r\n "), "a\r\n b");
    EXPECT_EQ(trim_lws(" \t "), "");
    EXPECT_EQ(trim_lws(""), "");
}

TEST(Text, Token) {
    EXPECT_TRUE(is_token("INVITE"));
    EXPECT_TRUE(is_token("!interesting-Method0123456789_*+`.%indeed'~"));
    EXPECT_FALSE(is_token(""));
    EXPECT_FALSE(is_token("a b"));
    EXPECT_FALSE(is_token("a@b"));
    EXPECT_FALSE(is_token("a:b"));
    EXPECT_FALSE(is_token(std::string_view("a\0b", 3)));
}

TEST(Text, Unquote) {
    EXPECT_EQ(unquote("\"J Rosenberg \\\\\\\"\""), "J Rosenberg \\\"");
    EXPECT_EQ(unquote(" \"a b\" "), "a b");
    EXPECT_EQ(unquote("token list"), "token list");
    EXPECT_EQ(unquote("\"unterminated"), "unterminated");
    EXPECT_EQ(unquote("\"\""), "");
    EXPECT_EQ(unquote(std::string("\"a\\\0b\"", 6)), std::string("a\0b", 3));
    EXPECT_EQ(unquote("\"trailing\\"), "trailing\\");
}

TEST(Text, FindParam) {
    const std::string_view p = ";tag=abc ; q = 0.5 ;lr;x=\"a;b=c\";Empty";
    EXPECT_EQ(find_param(p, "tag"), "abc");
    EXPECT_EQ(find_param(p, "Q"), "0.5");
    EXPECT_EQ(find_param(p, "lr"), "");
    EXPECT_EQ(find_param(p, "x"), "\"a;b=c\"");
    EXPECT_EQ(find_param(p, "b"), std::nullopt);  // inside a quoted value
    EXPECT_EQ(find_param(p, "empty"), "");
    EXPECT_EQ(find_param(p, "ta"), std::nullopt);
    EXPECT_EQ(find_param("", "a"), std::nullopt);
    EXPECT_EQ(find_param("a=1", "a"), "1");  // the leading ';' is optional
    EXPECT_EQ(find_param(";\r\n  branch = \r\n z9hG4bK30239", "branch"), "z9hG4bK30239");
    EXPECT_EQ(find_param(";a=\"unterminated;b=2", "b"), std::nullopt);
    EXPECT_EQ(find_param(";;;=;=x;,;a", "a"), "");
}

TEST(any_item_of, splits_at_commas_outside_quotes_and_angle_brackets) {
    std::vector<std::string> items;
    const auto collect = [&](std::string_view v) {
        items.emplace_back(v);
        return false;
    };
    EXPECT_FALSE(any_item_of(R"("Doe, John" <sip:a@b;x=1,2>;tag=1 ,, <tel:+1>, "a\"," <sip:c>)", collect));
    EXPECT_EQ(items, (std::vector<std::string>{R"("Doe, John" <sip:a@b;x=1,2>;tag=1)", "<tel:+1>", R"("a\"," <sip:c>)"}));
    items.clear();
    EXPECT_TRUE(any_item_of(" timer , 100rel", [&](std::string_view v) { return v == "100rel"; }));
    EXPECT_FALSE(any_item_of("", collect));
    EXPECT_TRUE(items.empty());
}

}  // namespace
}  // namespace b2b::sip
