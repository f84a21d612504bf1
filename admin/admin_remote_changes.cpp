// The admin API in a cluster: its changes handed to the publisher, and the other nodes' changes
// taken in their turn and made here through the same path as this API's own.
#include "admin/admin_api.hpp"

#include "admin/detail/change_message.hpp"
#include "admin/detail/logger.hpp"
#include "admin/detail/recent_ids.hpp"

#include <boost/asio/post.hpp>

#include <utility>

namespace b2b::admin {

using detail::admin_logger;

void admin_api::set_change_publisher(std::function<void(std::string body)> publish) { publish_ = std::move(publish); }

void admin_api::apply_remote_change(std::string_view body, std::string origin_node) {
    // The body is the caller's: copied before the post.
    boost::asio::post(http_ex_, [self = weak_from_this(), body = std::string(body),
                                 origin = std::move(origin_node)]() mutable {
        if (auto api = self.lock()) api->take_remote_change(body, std::move(origin));
    });
}

remote_change_counts admin_api::remote_changes() const {
    return {remote_.applied.load(), remote_.unchanged.load(), remote_.malformed.load(), remote_.invalid.load(),
            remote_.not_saved.load()};
}

void admin_api::take_remote_change(const std::string& body, std::string origin_node) {
    const std::string node = origin_node.empty() ? std::string("an unnamed node") : "node " + origin_node;
    auto m = detail::parse_change_message(body);
    if (!m) {
        ++remote_.malformed;
        admin_logger()->error("admin: a change from {} is dropped: its body cannot be read: {}", node, m.error());
        return;
    }
    // The audit line says where it came from; who made it there stays beside.
    m->audit.remote = node + " (" + m->audit.remote + ")";
    // A turn like an API change's, so that neither validates against documents the other is
    // about to replace. Nobody waits for the answer: the turn ends when `apply_change` is done.
    take_turn(
        [this, m = std::move(*m), node](reply end_turn) mutable {
            std::string id = m.id;
            const std::string what = m.audit.operation + " (" + m.audit.object + ")";
            auto finish = [self = weak_from_this(), id, node, what, end_turn = std::move(end_turn)](change_outcome o) {
                if (auto api = self.lock()) {
                    // A copy that comes again later, after other changes to the same document,
                    // must not bring the old one back; one refused or not saved may be retried.
                    if (o.what == change_outcome::result::applied || o.what == change_outcome::result::unchanged) {
                        api->recent_remote_->insert(id);
                    }
                    api->count_remote_change(o, node, what);
                }
                end_turn(http::response{});
            };
            if (recent_remote_->contains(id)) return finish({change_outcome::result::unchanged, {}});
            apply_change(std::move(m), false, std::move(finish));
        },
        [](http::response) {});
}

void admin_api::count_remote_change(const change_outcome& o, const std::string& node, const std::string& what) {
    using result = change_outcome::result;
    // One named logger for the whole function: a temporary per case, each destroyed at a
    // `return` inside the switch, is what clang 14's ASan flagged as used after its scope.
    const auto log = admin_logger();
    switch (o.what) {
        case result::applied: ++remote_.applied; return;
        case result::unchanged:
            ++remote_.unchanged;
            log->debug("admin: {} from {} is in place already", what, node);
            return;
        case result::invalid:
            // The nodes now differ: the operator has to see it.
            ++remote_.invalid;
            log->error(
                "admin: {} from {} is not applied: it would not make a valid configuration here: {}{}{}", what, node,
                o.error.field, o.error.field.empty() ? "" : ": ", o.error.message);
            return;
        case result::not_saved:
            ++remote_.not_saved;
            log->error("admin: {} from {} is not applied: the store cannot be written: {}", what, node,
                                  o.error.message);
            return;
    }
}

}  // namespace b2b::admin
