// The admin API in a cluster: its changes handed to the publisher, and the other nodes' changes
// taken in their turn and made here through the same path as this API's own.
#include "admin/admin_api.hpp"

#include "admin/detail/change_message.hpp"
#include "admin/detail/logger.hpp"
#include "admin/detail/recent_ids.hpp"
#include "admin/detail/store_thread.hpp"

#include <boost/asio/post.hpp>

#include <chrono>
#include <utility>

namespace b2b::admin {

using detail::admin_logger;

namespace {

/// How long a change published here may take to pass in the stream before it is forgotten:
/// far beyond a round of the link (250 ms) and a Redis outage worth waiting for; one that never
/// passes (the stream lost with a Redis restarted without persistence) must not make this node
/// skip the others' changes to that document for ever.
constexpr auto own_change_patience = std::chrono::minutes(10);

}  // namespace

void admin_api::set_change_publisher(std::function<bool(std::string body)> publish) { publish_ = std::move(publish); }

void admin_api::own_change_passed(std::string_view body, std::string node) {
    boost::asio::post(http_ex_, [self = weak_from_this(), body = std::string(body), node = std::move(node)]() mutable {
        auto api = self.lock();
        if (!api) return;
        auto m = detail::parse_change_message(body);
        if (!m) return;  // ours: it was readable when it left
        // The stream has it: the outbox need not keep it any more.
        api->store_->run([key = detail::outbox_key(m->id)](store& st) { return st.remove_state(key); }, api->http_ex_,
                         api->note_store_failure());
        const auto it = api->pending_own_.find(m->change.document_name());
        if (it == api->pending_own_.end()) {
            // Not waited for: read again after a restart. In the store already, unless an older
            // change of another node's, read again just before, replaced it: then it comes back.
            api->take_remote_change(body, std::move(node));
            return;
        }
        if (--it->second.count == 0) api->pending_own_.erase(it);
    });
}

void admin_api::send_unsent() {
    store_->run([](store& st) { return st.list_states(detail::outbox_prefix); }, http_ex_,
                [self = weak_from_this()](store_result<std::vector<std::pair<std::string, std::string>>> kept) {
                    auto api = self.lock();
                    if (!api || !kept) return;
                    for (auto& [key, body] : *kept) api->send_unsent(key, std::move(body));
                });
}

void admin_api::send_unsent(const std::string& key, std::string body) {
    auto m = detail::parse_change_message(body);
    auto forget = [this, &key] {
        store_->run([key](store& st) { return st.remove_state(key); }, http_ex_, note_store_failure());
    };
    if (!m) {
        admin_logger()->error("admin: an unsent change kept in the store cannot be read ({}): dropped: {}", key, m.error());
        return forget();
    }
    const std::string what = m->audit.operation + " (" + m->audit.object + ")";
    // Still in place here, where every change the stream held has been applied: nobody changed
    // the document after it, so sending it now loses nothing. Otherwise it is history.
    auto next = detail::with_change(docs_, m->change);
    if (!next || *next != docs_) {
        admin_logger()->warn("admin: {} made here never reached the other nodes, and {} changed since: dropped", what,
                             m->change.document_name());
        return forget();
    }
    if (!publish_ || !publish_(body)) return;  // stays kept: tried again at the next start
    auto& pending = pending_own_[m->change.document_name()];
    ++pending.count;
    pending.since = std::chrono::steady_clock::now();
    admin_logger()->warn("admin: {} made here had not reached the other nodes (this node ended first): sent now", what);
}

bool admin_api::own_change_pending(const std::string& doc) {
    const auto it = pending_own_.find(doc);
    if (it == pending_own_.end()) return false;
    if (std::chrono::steady_clock::now() - it->second.since > own_change_patience) {
        admin_logger()->warn("admin: this node's change to {} never came back through the cluster's stream; "
                             "the other nodes' changes to it are taken again", doc);
        pending_own_.erase(it);
        return false;
    }
    return true;
}

void admin_api::apply_remote_change(std::string_view body, std::string origin_node) {
    // The body is the caller's: copied before the post.
    boost::asio::post(http_ex_, [self = weak_from_this(), body = std::string(body),
                                 origin = std::move(origin_node)]() mutable {
        if (auto api = self.lock()) api->take_remote_change(body, std::move(origin));
    });
}

remote_change_counts admin_api::remote_changes() const {
    return {remote_.applied.load(), remote_.unchanged.load(), remote_.malformed.load(), remote_.invalid.load(),
            remote_.not_saved.load(), remote_.superseded.load()};
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
            if (own_change_pending(m.change.document_name())) {
                // Ours came after it in the stream: the others apply this one, then ours. Taking
                // it here would leave this node with the older version and them with ours.
                recent_remote_->insert(id);  // a copy coming again later is just as old
                ++remote_.superseded;
                admin_logger()->info("admin: {} from {} is skipped: this node changed {} after it", what, node,
                                     m.change.document_name());
                return end_turn(http::response{});
            }
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
