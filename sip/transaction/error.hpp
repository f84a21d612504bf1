// Errors the transaction manager returns to its user: the `b2b.sip.transaction` category.
#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace b2b::sip {

/// Why `transaction_manager` refused a call from the TU. Transport failures are not among
/// them: those reach the TU asynchronously as `transaction_failure::transport_error`.
enum class transaction_errc {
    ok = 0,
    unknown_transaction = 1,  ///< no live transaction of the right kind has this id
    final_response_sent,      ///< respond(): the transaction already has its final response
    bad_status,               ///< respond(): status outside 100..699
    bad_request,              ///< send_request(): not a request, an ACK, or no RFC 3261 branch on top
    duplicate_transaction,    ///< send_request(): a live client transaction has that branch and method
};

const boost::system::error_category& transaction_category() noexcept;

inline boost::system::error_code make_error_code(transaction_errc e) noexcept {
    return {static_cast<int>(e), transaction_category()};
}

}  // namespace b2b::sip

template <>
struct boost::system::is_error_code_enum<b2b::sip::transaction_errc> : std::true_type {};
