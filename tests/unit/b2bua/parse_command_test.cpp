// `b2bua parse`: JSON for good messages, one line naming the problem for bad ones.
#include "b2bua/parse_command.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>

namespace b2b::b2bua {
namespace {

std::string corpus(const std::string& name) {
    std::ifstream in(std::string(B2B_SHARED_DIR) + "/testdata/rfc4475/" + name, std::ios::binary);
    EXPECT_TRUE(in.good()) << name;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(parse_command, torture_invite_as_json) {
    std::ostringstream out, err;
    ASSERT_EQ(run_parse(corpus("wsinv.dat"), out, err), 0) << err.str();
    auto j = boost::json::parse(out.str()).as_object();
    EXPECT_EQ(j.at("type").as_string(), "request");
    EXPECT_EQ(j.at("method").as_string(), "INVITE");
    EXPECT_EQ(j.at("request_uri").as_string(), "sip:vivekg@chair-dnrc.example.com;unknownparam");
    EXPECT_EQ(j.at("call_id").as_string(), "wsinv.ndaksdj@192.0.2.1");
    EXPECT_EQ(j.at("cseq").at("seq").as_int64(), 9);
    EXPECT_EQ(j.at("cseq").at("method").as_string(), "INVITE");
    EXPECT_EQ(j.at("from").at("tag").as_string(), "98asjd8");
    EXPECT_EQ(j.at("to").at("tag").as_string(), "1918181833n");
    EXPECT_EQ(j.at("max_forwards").as_int64(), 68);
    EXPECT_EQ(j.at("content_length").as_int64(), 150);
    const auto& via = j.at("via").as_array();
    ASSERT_EQ(via.size(), 3u);
    EXPECT_EQ(via[0].at("transport").as_string(), "UDP");
    EXPECT_EQ(via[0].at("host").as_string(), "192.0.2.2");
    EXPECT_EQ(via[0].at("branch").as_string(), "390skdjuw");
    EXPECT_EQ(via[2].at("branch").as_string(), "z9hG4bK30239");
    const auto& headers = j.at("headers").as_array();
    EXPECT_GT(headers.size(), 10u);
    EXPECT_EQ(headers[0].as_array()[0].as_string(), "TO");
}

TEST(parse_command, response_and_binary_values_stay_valid_json) {
    std::ostringstream out, err;
    ASSERT_EQ(run_parse(corpus("unreason.dat"), out, err), 0) << err.str();
    auto j = boost::json::parse(out.str()).as_object();
    EXPECT_EQ(j.at("type").as_string(), "response");
    EXPECT_EQ(j.at("status").as_int64(), 200);
    std::ostringstream out2, err2;
    ASSERT_EQ(run_parse(corpus("intmeth.dat"), out2, err2), 0) << err2.str();
    EXPECT_NO_THROW(boost::json::parse(out2.str()));  // raw NUL and UTF-8 inside
}

TEST(parse_command, errors_are_one_line_and_exit_1) {
    for (const char* name : {"badinv01.dat", "badvers.dat", "mismatch01.dat", "insuf.dat", "ncl.dat"}) {
        std::ostringstream out, err;
        EXPECT_EQ(run_parse(corpus(name), out, err), 1) << name;
        EXPECT_TRUE(out.str().empty()) << name;
        const auto e = err.str();
        ASSERT_FALSE(e.empty()) << name;
        EXPECT_EQ(e.find('\n'), e.size() - 1) << name << ": " << e;
        EXPECT_EQ(e.rfind("error: ", 0), 0u) << e;
    }
    std::ostringstream out, err;
    EXPECT_EQ(run_parse("", out, err), 1);
}

}  // namespace
}  // namespace b2b::b2bua
