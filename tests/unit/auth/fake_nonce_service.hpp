// Test fake: a nonce_service that issues one fixed nonce and reports a verdict the test sets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/nonce.hpp"

namespace b2b::auth::test {

/// Issues `nonce` every time, to any address; `check` answers `status` for that exact nonce and
/// invalid for any other; `use` answers `use_result` and records the nc it was given. Lets
/// tests feed RFC example nonces through digest_server without weakening the real
/// signed_nonce_service. The test keeps a raw pointer to change the verdicts after handing the
/// fake to a server.
class fake_nonce_service final : public nonce_service {
  public:
    explicit fake_nonce_service(std::string nonce) : nonce_(std::move(nonce)) {}

    std::string issue(const boost::asio::ip::address& source,
                      std::chrono::system_clock::time_point) override {
        issued_to.push_back(source);
        return nonce_;
    }

    nonce_check check(std::string_view nonce, const boost::asio::ip::address&,
                      std::chrono::system_clock::time_point) const override {
        nonce_check out;
        out.status = nonce == nonce_ ? status : nonce_status::invalid;
        return out;
    }

    nonce_use use(const nonce_check&, std::optional<std::uint32_t> nc) override {
        used_with.push_back(nc);
        return use_result;
    }

    nonce_status status = nonce_status::valid;
    nonce_use use_result = nonce_use::accepted;
    std::vector<boost::asio::ip::address> issued_to;
    std::vector<std::optional<std::uint32_t>> used_with;

  private:
    std::string nonce_;
};

}  // namespace b2b::auth::test
