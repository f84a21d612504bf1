// Digest authentication micro-benchmarks: what one challenged call costs in hashes and MACs.
#include <benchmark/benchmark.h>

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <string>

#include "auth/algorithm.hpp"
#include "auth/nonce.hpp"

namespace {

using namespace b2b::auth;

// One answer checked (or made) the way the PBX's and the trunk's legs do: HA1, HA2, response.
void digest_response(benchmark::State& state, algorithm a) {
    const std::string nonce(64, 'n');
    for (auto _ : state) {
        const auto ha1 = compute_ha1(a, "pbxuser", "b2bua.example", "pbxpass");
        const auto ha2 = compute_ha2(a, "INVITE", "sip:1000@127.0.0.1:5070");
        auto response = compute_response(a, {ha1, nonce, "00000001", "6b8b4567", "auth", ha2});
        benchmark::DoNotOptimize(response);
    }
}
void BM_digest_response_md5(benchmark::State& state) { digest_response(state, algorithm::md5); }
void BM_digest_response_sha256(benchmark::State& state) { digest_response(state, algorithm::sha256); }
BENCHMARK(BM_digest_response_md5);
BENCHMARK(BM_digest_response_sha256);

// A challenge's nonce issued, then the answer's nonce checked: one HMAC-SHA256 each.
void BM_nonce_issue_and_check(benchmark::State& state) {
    signed_nonce_service nonces;
    const auto source = boost::asio::ip::make_address("127.0.0.1");
    const auto now = std::chrono::system_clock::now();
    for (auto _ : state) {
        const auto nonce = nonces.issue(source, now);
        auto checked = nonces.check(nonce, source, now);
        benchmark::DoNotOptimize(checked);
    }
}
BENCHMARK(BM_nonce_issue_and_check);

}  // namespace
