// The build's identity: what `b2bua --version` prints and b2bua_build_info carries.
#include "version/version.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace b2b::version {
namespace {

TEST(version, number_is_the_project_version) {
    EXPECT_TRUE(std::regex_match(std::string(number()), std::regex(R"(\d+\.\d+\.\d+)"))) << number();
}

TEST(version, commit_is_what_git_describe_said_or_unknown) {
    // A hash (with "-dirty" for a changed tree), a tag-based description, or "unknown" outside git.
    EXPECT_TRUE(std::regex_match(std::string(commit()), std::regex(R"([A-Za-z0-9._+-]+)"))) << commit();
    EXPECT_FALSE(commit().empty());
}

TEST(version, describe_names_both) {
    EXPECT_EQ(describe(), std::string(number()) + " (commit " + std::string(commit()) + ")");
}

}  // namespace
}  // namespace b2b::version
