// An async route's answer, and the 500 for one never given.
#include "http/detail/pending_answer.hpp"

namespace b2b::http::detail {

pending_answer::~pending_answer() {
    if (answered_.exchange(true)) return;
    post(response{.status = boost::beast::http::status::internal_server_error,
                  .body = "internal server error: the request was dropped unanswered\n"},
         true);
}

void pending_answer::post(response r, bool abandoned) {
    gate_->post([deliver = std::move(deliver_), r = std::move(r), abandoned]() mutable {
        deliver(std::move(r), abandoned);
    });
}

}  // namespace b2b::http::detail

namespace b2b::http {

void responder::operator()(response r) const {
    if (answer_) answer_->answer(std::move(r));
}

}  // namespace b2b::http
