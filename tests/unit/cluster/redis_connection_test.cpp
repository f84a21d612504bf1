// redis_connection against a real redis-server: replies of each kind, binary safety, failures.
#include "cluster/detail/redis_connection.hpp"

#include "cluster/error.hpp"
#include "redis_server.hpp"

#include <gtest/gtest.h>

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

namespace b2b::cluster {
namespace {

using namespace std::chrono_literals;
using detail::redis_connection;
using detail::redis_reply;
using test::redis_server;

class RedisConnectionTest : public testing::Test {
protected:
    void SetUp() override {
        // What the class asks of its thread (the link's own thread does the same).
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        ASSERT_TRUE(server_.start());
        ASSERT_TRUE(connection_.connect("127.0.0.1", server_.port(), 500ms, 200ms));
    }

    boost::system::result<redis_reply> run(std::vector<std::string> args) {
        return connection_.command(args);
    }

    redis_server server_;
    redis_connection connection_;
};

TEST_F(RedisConnectionTest, SetThenGetRoundTrips) {
    auto set = run({"SET", "k", "value"});
    ASSERT_TRUE(set) << connection_.last_error();
    EXPECT_EQ(set->type, redis_reply::kind::status);
    EXPECT_EQ(set->text, "OK");
    auto get = run({"GET", "k"});
    ASSERT_TRUE(get);
    EXPECT_EQ(get->type, redis_reply::kind::string);
    EXPECT_EQ(get->text, "value");
}

TEST_F(RedisConnectionTest, BinaryValueWithNulBytesIsKeptWhole) {
    const std::string key{"bin\0key", 7};
    const std::string body{"a\0b\r\n\0\xff", 7};
    ASSERT_TRUE(run({"SET", key, body}));
    auto get = run({"GET", key});
    ASSERT_TRUE(get);
    EXPECT_EQ(get->text, body);
    EXPECT_EQ(get->text.size(), 7u);
}

TEST_F(RedisConnectionTest, NilIntegerAndArrayReplies) {
    auto missing = run({"GET", "nothing"});
    ASSERT_TRUE(missing);
    EXPECT_TRUE(missing->is_nil());
    auto pushed = run({"RPUSH", "list", "x", "y"});
    ASSERT_TRUE(pushed);
    EXPECT_EQ(pushed->type, redis_reply::kind::integer);
    EXPECT_EQ(pushed->integer, 2);
    auto range = run({"LRANGE", "list", "0", "-1"});
    ASSERT_TRUE(range);
    ASSERT_TRUE(range->is_array());
    ASSERT_EQ(range->elements.size(), 2u);
    EXPECT_EQ(range->elements[0].text, "x");
    EXPECT_EQ(range->elements[1].text, "y");
}

TEST_F(RedisConnectionTest, ErrorReplyIsServerErrorAndKeepsTheConnection) {
    ASSERT_TRUE(run({"SET", "k", "v"}));
    auto wrong = run({"LPUSH", "k", "x"});
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error(), errc::server_error);
    EXPECT_NE(connection_.last_error().find("WRONGTYPE"), std::string::npos)
        << connection_.last_error();
    EXPECT_TRUE(connection_.connected());
    EXPECT_TRUE(run({"PING"}));
}

TEST_F(RedisConnectionTest, ServerGoneIsIoErrorAndCloses) {
    server_.stop();
    auto r = run({"PING"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::io_error);
    EXPECT_FALSE(connection_.connected());
    EXPECT_EQ(run({"PING"}).error(), errc::not_connected);
}

TEST_F(RedisConnectionTest, SilentServerTimesOut) {
    server_.pause();
    const auto start = std::chrono::steady_clock::now();
    auto r = run({"PING"});
    const auto took = std::chrono::steady_clock::now() - start;
    server_.resume();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::io_error);
    EXPECT_NE(connection_.last_error().find("timed out"), std::string::npos)
        << connection_.last_error();
    EXPECT_LT(took, 2s);
    EXPECT_FALSE(connection_.connected());
}

TEST_F(RedisConnectionTest, ConnectToAClosedPortFails) {
    redis_connection other;
    auto r = other.connect("127.0.0.1", redis_server::free_port(), 500ms, 200ms);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::io_error);
    EXPECT_NE(other.last_error().find("Connection refused"), std::string::npos)
        << other.last_error();
    EXPECT_FALSE(other.connected());
}

TEST(ClusterError, CategoryNamesItsCodes) {
    const boost::system::error_code ec = errc::server_error;
    EXPECT_STREQ(ec.category().name(), "b2b.cluster");
    EXPECT_EQ(ec.message(), "Redis answered with an error");
}

}  // namespace
}  // namespace b2b::cluster
