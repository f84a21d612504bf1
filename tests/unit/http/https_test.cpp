// Tests of the HTTP server over TLS, with a self-signed certificate made here by the openssl CLI.
#include "http/http_server.hpp"

#include "tests/unit/http/http_test_client.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace b2b::http {
namespace {

using namespace test;
namespace fs = std::filesystem;
namespace ssl = asio::ssl;

/// A directory of its own for one test, removed afterwards.
class scratch_dir {
public:
    explicit scratch_dir(const std::string& name)
        : path_(fs::temp_directory_path() / ("b2b_https_" + name + '_' + std::to_string(::getpid()))) {
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~scratch_dir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

/// A self-signed certificate for IP 127.0.0.1 and its key (EC P-256), in `dir`.
tls_files self_signed(const fs::path& dir, const std::string& name) {
    const fs::path cnf = dir / "openssl.cnf";
    std::ofstream(cnf) << "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n";
    tls_files out{.certificate = (dir / (name + ".pem")).string(), .key = (dir / (name + ".key")).string()};
    const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
                            " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -config '" +
                            cnf.string() + "' -keyout '" + out.key + "' -out '" + out.certificate + "' 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl req failed: " + cmd);
    return out;
}

using tls_client_stream = beast::ssl_stream<beast::tcp_stream>;

/// GETs `targets` one after the other on one TLS connection that verifies `ca` and 127.0.0.1.
asio::awaitable<std::vector<client_response>> https_get(tcp::endpoint server, ssl::context& client_tls,
                                                        std::vector<std::string> targets) {
    tls_client_stream stream(co_await asio::this_coro::executor, client_tls);
    stream.set_verify_mode(ssl::verify_peer);
    stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    co_await beast::get_lowest_layer(stream).async_connect(server, asio::use_awaitable);
    co_await stream.async_handshake(ssl::stream_base::client, asio::use_awaitable);
    beast::flat_buffer buffer;
    std::vector<client_response> got;
    for (auto& target : targets) {
        auto req = make_request(beast::http::verb::get, std::move(target));
        co_await beast::http::async_write(stream, req, asio::use_awaitable);
        client_response res;
        co_await beast::http::async_read(stream, buffer, res, asio::use_awaitable);
        got.push_back(std::move(res));
    }
    co_return got;
}

/// Counts the timeouts an http_server reports.
struct timeout_observer : http_observer {
    void on_connection_refused(connection_refusal) override {}
    void on_timeout(http_timeout which) override { timeouts.push_back(which); }
    std::vector<http_timeout> timeouts;
};

class https_test : public ::testing::Test {
protected:
    https_test() : dir_(::testing::UnitTest::GetInstance()->current_test_info()->name()) {}

    http_server& start(http_server_options options) {
        server_.emplace(ioc_.get_executor(), loopback_any_port(), std::move(options));
        server_->add_route(beast::http::verb::get, "/hello",
                           [](const request&) { return response{.body = "hello\n"}; });
        server_->set_observer(&observer_);
        return *server_;
    }

    template <class T>
    T run(asio::awaitable<T> client) {
        return run_client(ioc_, *server_, std::move(client));
    }

    scratch_dir dir_;
    asio::io_context ioc_;
    timeout_observer observer_;
    std::optional<http_server> server_;
};

TEST_F(https_test, request_over_tls_is_answered) {
    const tls_files files = self_signed(dir_.path(), "server");
    auto& server = start({.tls = files});
    ASSERT_FALSE(server.start());
    ssl::context client_tls(ssl::context::tls_client);
    client_tls.load_verify_file(files.certificate);
    const auto r = run(https_get(server.local_endpoint(), client_tls, {"/hello", "/nowhere"}));
    ASSERT_EQ(r.size(), 2U);
    EXPECT_EQ(r[0].result(), beast::http::status::ok);
    EXPECT_EQ(r[0].body(), "hello\n");
    EXPECT_TRUE(r[0].keep_alive());
    EXPECT_EQ(r[1].result(), beast::http::status::not_found);
}

TEST_F(https_test, plain_http_to_the_tls_port_gets_no_answer) {
    auto& server = start({.tls = self_signed(dir_.path(), "server")});
    ASSERT_FALSE(server.start());
    const auto end = run([](tcp::endpoint at) -> asio::awaitable<beast::error_code> {
        http_client c(co_await asio::this_coro::executor);
        co_await c.connect(at);
        co_await c.send(make_request(beast::http::verb::get, "/hello"));
        client_response res;
        beast::flat_buffer buffer;
        auto [ec, n] = co_await beast::http::async_read(c.stream(), buffer, res, asio::as_tuple(asio::use_awaitable));
        co_return ec;
    }(server.local_endpoint()));
    EXPECT_TRUE(end) << "a plain HTTP request got an HTTP answer";
}

TEST_F(https_test, silent_client_is_cut_at_the_handshake_timeout) {
    auto& server = start({.handshake_timeout = std::chrono::milliseconds(20),
                          .tls = self_signed(dir_.path(), "server")});
    ASSERT_FALSE(server.start());
    const auto end = run([](tcp::endpoint at) -> asio::awaitable<beast::error_code> {
        http_client c(co_await asio::this_coro::executor);
        co_await c.connect(at);
        co_return co_await c.wait_closed();
    }(server.local_endpoint()));
    EXPECT_EQ(end, asio::error::eof);
    EXPECT_EQ(observer_.timeouts, std::vector<http_timeout>{http_timeout::tls_handshake});
}

TEST_F(https_test, unusable_files_stop_the_start_naming_the_file) {
    const tls_files good = self_signed(dir_.path(), "server");
    const tls_files other = self_signed(dir_.path(), "other");
    const std::string missing = (dir_.path() / "missing.pem").string();

    auto message = [&](tls_files files) -> std::string {
        http_server server(ioc_.get_executor(), loopback_any_port(), {.tls = std::move(files)});
        try {
            (void)server.start();
        } catch (const std::runtime_error& e) {
            return e.what();
        }
        return "started";
    };
    EXPECT_NE(message({.certificate = missing, .key = good.key}).find(missing), std::string::npos);
    EXPECT_NE(message({.certificate = good.certificate, .key = missing}).find(missing), std::string::npos);
    // A key that is not the certificate's: OpenSSL says so, and we name the key file.
    const std::string mismatch = message({.certificate = good.certificate, .key = other.key});
    EXPECT_NE(mismatch.find(other.key), std::string::npos) << mismatch;
    // The key file given as the certificate is no certificate.
    EXPECT_NE(message({.certificate = good.key, .key = good.key}).find("certificate file"), std::string::npos);
}

}  // namespace
}  // namespace b2b::http
