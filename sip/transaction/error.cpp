// The `b2b.sip.transaction` error category.
#include "sip/transaction/error.hpp"

#include <string>

namespace b2b::sip {

namespace {

// error_category's destructor is protected and non-virtual by design (categories are never
// deleted through a base pointer), which -Wnon-virtual-dtor cannot tell.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class transaction_category_impl final : public boost::system::error_category {
public:
    // A fixed id keeps the category comparable across shared objects (Boost.System idiom).
    constexpr transaction_category_impl() noexcept : error_category(0x6232622e74786e01ULL) {}

    const char* name() const noexcept override { return "b2b.sip.transaction"; }

    std::string message(int ev) const override {
        switch (static_cast<transaction_errc>(ev)) {
            case transaction_errc::ok: return "success";
            case transaction_errc::unknown_transaction: return "unknown transaction";
            case transaction_errc::final_response_sent: return "final response already sent";
            case transaction_errc::bad_status: return "status code outside 100..699";
            case transaction_errc::bad_request:
                return "not a request that can start a client transaction";
            case transaction_errc::duplicate_transaction:
                return "a client transaction with this branch and method exists";
        }
        return "unknown transaction error";
    }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& transaction_category() noexcept {
    static const transaction_category_impl category;
    return category;
}

}  // namespace b2b::sip
