// Test fake: a nonce_service that issues one fixed nonce and reports a verdict the test sets.
#pragma once

#include <string>
#include <string_view>

#include "auth/nonce.hpp"

namespace b2b::auth::test {

/// Issues `nonce` every time; `check` answers `status` for that exact nonce and invalid for any
/// other. Lets tests feed RFC example nonces through digest_server without weakening the real
/// signed_nonce_service. The test keeps a raw pointer to change `status` after handing the
/// fake to a server.
class fake_nonce_service final : public nonce_service {
  public:
    explicit fake_nonce_service(std::string nonce) : nonce_(std::move(nonce)) {}

    std::string issue(std::chrono::system_clock::time_point) const override { return nonce_; }

    nonce_status check(std::string_view nonce,
                       std::chrono::system_clock::time_point) const override {
        return nonce == nonce_ ? status : nonce_status::invalid;
    }

    nonce_status status = nonce_status::valid;

  private:
    std::string nonce_;
};

}  // namespace b2b::auth::test
