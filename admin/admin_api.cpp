// The REST admin API: authorisation, dispatch, and the changes to trunks, users and routes.
#include "admin/admin_api.hpp"
#include "admin/detail/fan_out.hpp"

#include "admin/detail/api_request.hpp"
#include "admin/detail/cdr_journal.hpp"
#include "admin/detail/change_message.hpp"
#include "admin/detail/store_thread.hpp"
#include "admin/detail/json_response.hpp"
#include "admin/detail/logger.hpp"
#include "admin/detail/recent_ids.hpp"
#include "admin/status_route.hpp"
#include "b2bua/core.hpp"
#include "version/version.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <random>
#include <span>

namespace b2b::admin {

namespace json = boost::json;
namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using detail::admin_logger;
using detail::json_error;
using detail::json_response;

namespace {

constexpr std::string_view masked = "***";

// What GET shows of a trunk: its document with the password masked, and whether one is set.
json::object public_trunk(const json::object& doc) {
    json::object o = doc;
    const bool has_password = o.contains("password") && o.at("password").is_string() && !o.at("password").as_string().empty();
    if (has_password) o["password"] = masked;
    o["password_set"] = has_password;
    return o;
}

json::object public_user(const json::object& doc) {
    json::object o;
    for (const auto& kv : doc) {
        if (kv.key() == "password" || kv.key() == "ha1" || kv.key() == "ha1_sha256") continue;
        o[kv.key()] = kv.value();
    }
    const auto set = [&](std::string_view key) {
        return doc.contains(key) && doc.at(key).is_string() && !doc.at(key).as_string().empty();
    };
    o["password_set"] = set("password");
    o["ha1_set"] = set("ha1") || set("ha1_sha256");
    return o;
}

// A secret sent back as "***" (GET, edit, PUT) keeps the one stored; read-only members go.
void keep_secrets(json::object& incoming, const json::object* current, std::span<const std::string_view> secrets) {
    for (auto key : secrets) {
        const auto* v = incoming.if_contains(key);
        if (v == nullptr || !v->is_string() || v->as_string() != masked) continue;
        if (current != nullptr && current->contains(key)) {
            incoming[key] = current->at(key);
        } else {
            incoming.erase(key);
        }
    }
    incoming.erase("password_set");
    incoming.erase("ha1_set");
    incoming.erase("status");
}

}  // namespace

/// Trunks and users are collections of named documents with the same operations; what differs
/// is here.
struct admin_api::collection {
    std::string_view kind;  ///< the store's kind
    std::string_view what;  ///< "trunk", "user": for messages and the audit log
    std::string_view key;   ///< the member naming a document: "name", "username"
    std::vector<named_document> document_set::*documents;
    std::span<const std::string_view> secrets;  ///< write-only members
    json::object (*view)(const json::object&);       ///< what GET shows
    bool is_trunk;
};

namespace {

constexpr std::string_view trunk_secrets[] = {"password"};
constexpr std::string_view user_secrets[] = {"password", "ha1", "ha1_sha256"};
// A trunk's run-time state, as GET shows it beside its document.
void add_status(json::object& o, const std::vector<b2bua::core::trunk_status>& states, std::string_view name) {
    for (const auto& s : states) {
        if (s.trunk->name != name) continue;
        json::object st;
        st["up"] = s.up;
        st["active_calls"] = s.active_calls;
        // Cluster: another node registers it; this one's idle client has nothing to say.
        st["registration"] = s.registered_by ? "elsewhere"
                             : s.registration ? std::string(registration::to_string(s.registration->state))
                                              : "none";
        if (s.registered_by) st["registered_by"] = s.registered_by->empty() ? json::value(nullptr) : json::value(*s.registered_by);
        o["status"] = std::move(st);
    }
}

const admin_api::collection trunk_collection{kinds::trunk, "trunk", "name", &document_set::trunks, trunk_secrets,
                                             &public_trunk, true};
const admin_api::collection user_collection{kinds::user, "user", "username", &document_set::users, user_secrets,
                                            &public_user, false};

named_document* find(document_set& docs, const admin_api::collection& c, std::string_view name) {
    auto& list = docs.*c.documents;
    const auto it = std::find_if(list.begin(), list.end(), [&](const named_document& d) { return d.name == name; });
    return it == list.end() ? nullptr : &*it;
}

bool unprocessable(const validation_error& e) {
    // The body is well formed, but the change does not fit the rest of the configuration.
    for (std::string_view marker : {"no trunk named", "is listed twice", "already", "duplicate", "no user"}) {
        if (e.message.find(marker) != std::string::npos) return true;
    }
    return false;
}

std::string_view method_name(verb m) { return boost::beast::http::to_string(m); }

// 64 random bits in hex: this API's changes are told apart from every other node's by it, and
// from those of this node's earlier runs.
std::string random_prefix() {
    std::random_device rd;
    const auto bits = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(bits));
    return buf;
}

// How many ids of other nodes' changes are remembered (detail::recent_ids).
constexpr std::size_t remembered_remote_changes = 4096;

}  // namespace


admin_api::admin_api(asio::any_io_executor http_ex, asio::any_io_executor sip_ex, b2bua::core& core,
                     std::unique_ptr<store> st, document_set docs, admin_settings settings)
    : http_ex_(std::move(http_ex)),
      sip_ex_(std::move(sip_ex)),
      core_(core),
      docs_(std::move(docs)),
      settings_(std::move(settings)),
      change_id_prefix_(random_prefix()),
      recent_remote_(std::make_unique<detail::recent_ids>(remembered_remote_changes)),
      cdrs_(std::make_shared<detail::cdr_journal>(settings_.cdr_file, settings_.cdr_keep)),
      cdr_timer_(http_ex_),
      store_(std::make_unique<detail::store_thread>(std::move(st))) {
    workers_ = settings_.workers;
    if (workers_.empty()) workers_.push_back({sip_ex_, &core_});
    if (!settings_.token.enabled()) {
        admin_logger()->warn(
            "the admin API is off: no token configured (admin.token_file, admin.token or B2BUA_ADMIN_TOKEN); every "
            "/api/v1 request gets 403");
    }
}

admin_api::~admin_api() = default;

void admin_api::add_routes(http::http_server& server) {
    add_status_route(server);
    for (verb m : {verb::get, verb::post, verb::put, verb::patch, verb::delete_}) {
        server.add_async_route(m, "/api/v1/*", [self = weak_from_this()](const http::request& in, http::responder out) {
            auto api = self.lock();
            if (!api) return out(json_error(status::service_unavailable, "shutting down"));
            auto r = std::make_shared<request>();
            r->method = in.method;
            r->path = std::string(in.rest);
            r->query = std::string(in.query);
            r->body = std::string(in.body);
            if (auto it = in.headers.find(boost::beast::http::field::content_type); it != in.headers.end()) {
                r->content_type = std::string(it->value());
            }
            r->remote = in.remote.address().to_string() + ":" + std::to_string(in.remote.port());
            const auto authorization = in.headers.find(boost::beast::http::field::authorization);
            const std::string_view credentials =
                authorization == in.headers.end() ? std::string_view() : std::string_view(authorization->value());
            const auto access = api->settings_.token.check(credentials);
            if (access == access_token::access::off) {
                return out(json_error(status::forbidden,
                                           "the admin API is off: set admin.token_file (or admin.token, or the "
                                           "environment variable B2BUA_ADMIN_TOKEN) and restart"));
            }
            if (access != access_token::access::granted) {
                auto rsp = json_error(status::unauthorized,
                                      "missing or wrong token: send Authorization: Bearer <token> (admin.token_file)");
                rsp.headers.set(boost::beast::http::field::www_authenticate, "Bearer realm=\"b2bua\"");
                return out(std::move(rsp));
            }
            std::string_view rest = r->path;
            while (!rest.empty()) {
                const auto slash = rest.find('/');
                r->segments.emplace_back(rest.substr(0, slash));
                rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
            }
            api->handle(*r, [r, out](http::response rsp) { out(std::move(rsp)); });
        });
    }
}

void admin_api::add_status_route(http::http_server& server) {
    // The page reads the cores as the API's resources do: on every SIP loop, answering from here.
    // Weak references only: a request in flight must not keep the API (whose timer belongs to
    // the HTTP loop) alive past the loops; a dropped responder answers 500.
    add_status_page(server, settings_.token, [self = weak_from_this()](std::function<void(status_snapshot)> done) {
        auto api = self.lock();
        if (!api) return;
        detail::on_every_worker<status_snapshot>(
            api->workers_, api->http_ex_, [](b2bua::core& c) { return take_status_snapshot(c); },
            [self, done = std::move(done)](std::vector<status_snapshot> by_worker) {
                auto on_http = self.lock();
                if (!on_http) return;
                auto s = merge_status(std::move(by_worker));
                s.version = std::string(version::describe());
                s.uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                            on_http->started_);
                done(std::move(s));
            });
    });
}

void admin_api::handle(request& r, reply done) {
    if (r.method == verb::get) return route(r, std::move(done));
    // The request is kept alive by `done` (add_routes), which waits with the work.
    take_turn([this, &r](reply d) { route(r, std::move(d)); }, std::move(done));
}

namespace {

/// A change's turn: over once its answer has gone out, or once the last copy of its reply is
/// dropped unanswered, so that one lost reply cannot hold up every change after it.
struct turn {
    std::function<void()> end;
    ~turn() { end(); }
};

}  // namespace

void admin_api::take_turn(std::function<void(reply)> work, reply done) {
    turns_.push_back([this, work = std::move(work), done = std::move(done)]() mutable {
        auto t = std::make_shared<turn>();
        t->end = [self = weak_from_this(), ex = http_ex_] {
            // Possibly from another thread, or from within the answer: the next one starts afresh.
            asio::post(ex, [self] {
                if (auto api = self.lock()) api->next_turn();
            });
        };
        work([t, done = std::move(done)](http::response rsp) mutable {
            auto mine = std::move(t);  // ends as the answer has gone out
            done(std::move(rsp));
        });
    });
    if (!in_turn_) next_turn();
}

void admin_api::next_turn() {
    in_turn_ = !turns_.empty();
    if (!in_turn_) return;
    auto next = std::move(turns_.front());
    turns_.pop_front();
    next();
}

void admin_api::route(request& r, reply done) {
    const std::string first = r.segments.empty() ? std::string() : r.segments[0];
    const auto allow = [&](std::string_view methods) {
        auto rsp = json_error(status::method_not_allowed, std::string(method_name(r.method)) + " is not allowed here");
        rsp.headers.set(boost::beast::http::field::allow, methods);
        done(std::move(rsp));
    };
    if (first == "trunks") return trunks(r, std::move(done));
    if (first == "users") return users(r, std::move(done));
    if (first == "routes" || first == "inbound-routes") {
        if (r.segments.size() != 1) return done(json_error(status::not_found, "no such resource: /api/v1/" + r.path));
        if (r.method != verb::get && r.method != verb::put) return allow("GET, PUT");
        return tables(r, std::move(done));
    }
    if (first == "calls") return calls(r, std::move(done));
    if (first == "registrations") {
        if (r.segments.size() != 1) return done(json_error(status::not_found, "no such resource: /api/v1/" + r.path));
        if (r.method != verb::get) return allow("GET");
        return registrations(r, std::move(done));
    }
    if (first == "auth") return auth_failures(r, std::move(done));
    if (first == "bans") return bans(r, std::move(done));
    if (first == "cdrs" || first == "audit") {
        if (r.segments.size() != 1) return done(json_error(status::not_found, "no such resource: /api/v1/" + r.path));
        if (r.method != verb::get) return allow("GET");
        return first == "cdrs" ? cdrs(r, std::move(done)) : audit(r, std::move(done));
    }
    if (first == "reload") {
        if (r.segments.size() != 1) return done(json_error(status::not_found, "no such resource: /api/v1/" + r.path));
        if (r.method != verb::post) return allow("POST");
        return reload(r, std::move(done));
    }
    if (first == "log-level") {
        if (r.segments.size() != 1) return done(json_error(status::not_found, "no such resource: /api/v1/" + r.path));
        if (r.method != verb::get && r.method != verb::put) return allow("GET, PUT");
        return log_level(r, std::move(done));
    }
    done(json_error(status::not_found, "no such resource: /api/v1/" + r.path));
}

// ------------------------------------------------------------------------------ changes

void admin_api::commit(request& r, detail::document_change change, std::string object, http::response answer,
                       reply done, bool end_calls) {
    // The answer sent once the change is applied: a 2xx, validation having passed.
    audit_entry audit{std::chrono::system_clock::now(), r.remote, r.operation(), std::move(object),
                      static_cast<int>(answer.status)};
    auto id = change_id_prefix_ + "-" + std::to_string(++changes_made_);
    apply_change(detail::change_message{std::move(id), std::move(change), std::move(audit), end_calls}, true,
                 [answer = std::move(answer), done = std::move(done)](change_outcome o) mutable {
                     switch (o.what) {
                         case change_outcome::result::invalid:
                             return done(json_error(unprocessable(o.error) ? status::unprocessable_entity
                                                                           : status::bad_request,
                                                    o.error.message, o.error.field));
                         case change_outcome::result::not_saved:
                             return done(json_error(status::service_unavailable,
                                                    "the change was not saved: the store cannot be written: " +
                                                        o.error.message));
                         case change_outcome::result::applied:
                         case change_outcome::result::unchanged: return done(std::move(answer));
                     }
                 });
}

void admin_api::apply_change(detail::change_message m, bool local, std::function<void(change_outcome)> done) {
    using result = change_outcome::result;
    const auto& change = m.change;
    auto next = detail::with_change(docs_, change);
    if (!next) return done({result::invalid, {"", next.error()}});
    // Another node's change that is in place already (a repeat: the stream delivers at least
    // once) writes nothing; the same change made here again is audited like any other.
    if (!local && *next == docs_) return done({result::unchanged, {}});
    const bool put = !change.is_removal();
    auto v = validate(settings_.base_config, *next, put && change.kind == kinds::trunk ? change.key : std::string(),
                      put && change.kind == kinds::user ? change.key : std::string());
    if (v.error) return done({result::invalid, std::move(*v.error)});
    change_set changes;
    detail::add_to(changes, change);
    changes.audit = m.audit;
    std::string end_calls_on = m.end_calls && change.kind == kinds::trunk && !put ? change.key : std::string();
    std::string published = local ? detail::serialize(m) : std::string();
    std::string document = change.document_name();
    // In a cluster, kept with the change until the stream has it (own_change_passed): a node
    // that ends before handing it to Redis sends it when it starts again (send_unsent).
    if (!published.empty() && publish_) changes.states.emplace_back(detail::outbox_key(m.id), published);
    // Written on the store's thread; docs_ and the workers change once it is on disk. Changes
    // take turns (handle, take_remote_change), so no other one validates against docs_
    // meanwhile and then undoes this one.
    auto cfg = std::make_shared<b2bua::config>(std::move(*v.config));
    store_->run([changes = std::move(changes)](store& st) { return st.commit(changes); }, http_ex_,
                [self = weak_from_this(), audit = std::move(m.audit), next = std::move(*next), cfg,
                 end_calls_on = std::move(end_calls_on), published = std::move(published),
                 document = std::move(document), done = std::move(done)](store_result<void> written) mutable {
                    auto api = self.lock();
                    if (!api) return;
                    if (!written) {
                        api->store_problem_ = written.error().what();
                        admin_logger()->error("admin: {} not saved: the store cannot be written: {}", audit.operation,
                                              api->store_problem_);
                        return done({result::not_saved, {"", api->store_problem_}});
                    }
                    api->store_problem_.clear();
                    api->docs_ = std::move(next);
                    admin_logger()->info("admin: {} from {} ({})", audit.operation, audit.remote, audit.object);
                    if (!published.empty() && api->publish_) {
                        // On disk and answered for here whatever the publisher does.
                        try {
                            if (api->publish_(std::move(published))) {
                                // Until it passes in the stream, the others' changes to this
                                // document that we read are older than it (own_change_passed).
                                auto& pending = api->pending_own_[document];
                                ++pending.count;
                                pending.since = std::chrono::steady_clock::now();
                            }
                        } catch (const std::exception& e) {
                            admin_logger()->error("admin: {} not published to the other nodes: {}", audit.operation,
                                                  e.what());
                        }
                    }
                    // Every worker applies it, in the order the changes were made; `done`
                    // waits for all.
                    detail::on_every_worker<int>(
                        api->workers_, api->http_ex_,
                        [cfg, end_calls_on](b2bua::core& c) {
                            if (!end_calls_on.empty()) c.end_calls_on_trunk(end_calls_on);
                            c.reconfigure(cfg->upstream.trunks, cfg->routes, cfg->inbound_routes);
                            c.set_users(cfg->downstream.users);
                            return 1;
                        },
                        [done = std::move(done)](std::vector<int>) mutable { done({result::applied, {}}); });
                });
}

void admin_api::add_document(request& r, const collection& c, reply done) {
    auto body = r.object_body();
    if (body.error) return done(std::move(*body.error));
    const auto* n = body.object.if_contains(c.key);
    if (n == nullptr || !n->is_string() || n->as_string().empty()) {
        return done(json_error(status::bad_request, "is required: the " + std::string(c.what) + "'s name", c.key));
    }
    const std::string name(n->as_string());
    if (find(docs_, c, name) != nullptr) {
        return done(json_error(status::conflict, std::string(c.what) + " " + name + " exists: PUT /api/v1/" +
                                                     std::string(c.what) + "s/" + name + " replaces it",
                               c.key));
    }
    keep_secrets(body.object, nullptr, c.secrets);
    auto answer = json_response(status::created, c.view(body.object));
    commit(r, {std::string(c.kind), name, json::value(std::move(body.object))}, std::string(c.what) + " " + name,
           std::move(answer), std::move(done));
}

void admin_api::replace_document(request& r, const collection& c, const std::string& name, reply done) {
    auto body = r.object_body();
    if (body.error) return done(std::move(*body.error));
    named_document* current = find(docs_, c, name);
    if (r.method == verb::patch && current == nullptr) {
        return done(json_error(status::not_found, "no " + std::string(c.what) + " named " + name));
    }
    json::object doc;
    if (r.method == verb::patch) {
        // RFC 7396: the patch's members replace the stored ones; "***" keeps a secret.
        doc = current->body;
        keep_secrets(body.object, &current->body, c.secrets);
        merge_patch(doc, body.object);
    } else {
        doc = std::move(body.object);
        keep_secrets(doc, current ? &current->body : nullptr, c.secrets);
    }
    if (const auto* n = doc.if_contains(c.key); n != nullptr && (!n->is_string() || n->as_string() != name)) {
        return done(json_error(status::bad_request,
                               "must be the name in the path (" + name + "); a " + std::string(c.what) +
                                   " is renamed by adding the new and deleting the old",
                               c.key));
    }
    doc[c.key] = name;
    auto answer = json_response(current == nullptr ? status::created : status::ok, c.view(doc));
    commit(r, {std::string(c.kind), name, json::value(std::move(doc))}, std::string(c.what) + " " + name,
           std::move(answer), std::move(done));
}

void admin_api::trunks(request& r, reply done) {
    const auto& seg = r.segments;
    std::optional<std::string> name;
    if (seg.size() >= 2) {
        name = detail::decode_segment(seg[1]);
        if (!name) return done(json_error(status::bad_request, "not a trunk name: " + seg[1]));
    }
    // POST /api/v1/trunks/{name}/register
    if (seg.size() == 3 && seg[2] == "register") {
        if (r.method != verb::post) {
            auto rsp = json_error(status::method_not_allowed, "POST only");
            rsp.headers.set(boost::beast::http::field::allow, "POST");
            return done(std::move(rsp));
        }
        if (docs_.find_trunk(*name) == nullptr) return done(json_error(status::not_found, "no trunk named " + *name));
        return asio::post(sip_ex_, [this, n = *name, done = std::move(done)]() mutable {
            // Cluster: only the lease holder registers; a REGISTER from here would fight it.
            const auto elsewhere = core_.registered_elsewhere(n);
            const bool registers = !elsewhere && core_.register_now(n);
            asio::post(http_ex_, [registers, elsewhere, n, done = std::move(done)] {
                if (elsewhere) {
                    return done(json_error(status::conflict,
                                           "trunk " + n + " is registered by " +
                                               (elsewhere->empty() ? std::string("another node") : "node " + *elsewhere) +
                                               " of the cluster: ask that node"));
                }
                if (!registers) {
                    return done(json_error(status::conflict, "trunk " + n + " does not register (register: false)"));
                }
                json::object o;
                o["trunk"] = n;
                o["registering"] = true;
                done(json_response(status::accepted, o));
            });
        });
    }
    if (seg.size() > 2) return done(json_error(status::not_found, "no such resource: /api/v1/" + r.path));

    if (!name) {
        if (r.method == verb::get) {
            return asio::post(sip_ex_, [this, done = std::move(done)]() mutable {
                auto states = std::make_shared<std::vector<b2bua::core::trunk_status>>(core_.trunks());
                asio::post(http_ex_, [this, states, done = std::move(done)] {
                    json::array list;
                    for (const auto& d : docs_.trunks) {
                        auto o = public_trunk(d.body);
                        add_status(o, *states, d.name);
                        list.push_back(std::move(o));
                    }
                    json::object body;
                    body["trunks"] = std::move(list);
                    done(json_response(status::ok, body));
                });
            });
        }
        if (r.method != verb::post) {
            auto rsp = json_error(status::method_not_allowed, "GET or POST");
            rsp.headers.set(boost::beast::http::field::allow, "GET, POST");
            return done(std::move(rsp));
        }
        return add_document(r, trunk_collection, std::move(done));
    }

    named_document* current = docs_.find_trunk(*name);
    switch (r.method) {
        case verb::get: {
            if (current == nullptr) return done(json_error(status::not_found, "no trunk named " + *name));
            return asio::post(sip_ex_, [this, n = *name, done = std::move(done)]() mutable {
                auto states = std::make_shared<std::vector<b2bua::core::trunk_status>>(core_.trunks());
                asio::post(http_ex_, [this, n, states, done = std::move(done)] {
                    const auto* d = docs_.find_trunk(n);
                    if (d == nullptr) return done(json_error(status::not_found, "no trunk named " + n));
                    auto o = public_trunk(d->body);
                    add_status(o, *states, n);
                    done(json_response(status::ok, o));
                });
            });
        }
        case verb::put:
        case verb::patch: return replace_document(r, trunk_collection, *name, std::move(done));
        case verb::delete_: {
            if (current == nullptr) return done(json_error(status::not_found, "no trunk named " + *name));
            const bool force = r.param("force").value_or("") == "true";
            auto req = std::make_shared<request>(r);
            return detail::on_every_worker<std::size_t>(
                workers_, http_ex_, [n = *name](b2bua::core& c) { return c.calls_on_trunk(n); },
                [this, n = *name, force, req, done = std::move(done)](std::vector<std::size_t> per_worker) mutable {
                    std::size_t active = 0;
                    for (const auto a : per_worker) active += a;
                    if (active > 0 && !force) {
                        return done(json_error(status::conflict, "trunk " + n + " has " + std::to_string(active) +
                                                                     " call(s) in progress; DELETE ?force=true ends them"));
                    }
                    commit(*req, {std::string(kinds::trunk), n, std::nullopt}, "trunk " + n,
                           http::response{.status = status::no_content, .content_type = ""}, std::move(done), force);
                });
        }
        default: {
            auto rsp = json_error(status::method_not_allowed, "GET, PUT, PATCH or DELETE");
            rsp.headers.set(boost::beast::http::field::allow, "GET, PUT, PATCH, DELETE");
            return done(std::move(rsp));
        }
    }
}

void admin_api::users(request& r, reply done) {
    const auto& seg = r.segments;
    if (seg.size() > 2) return done(json_error(status::not_found, "no such resource: /api/v1/" + r.path));
    if (seg.size() == 1) {
        if (r.method == verb::get) {
            json::array list;
            for (const auto& d : docs_.users) list.push_back(public_user(d.body));
            json::object body;
            body["users"] = std::move(list);
            return done(json_response(status::ok, body));
        }
        if (r.method != verb::post) {
            auto rsp = json_error(status::method_not_allowed, "GET or POST");
            rsp.headers.set(boost::beast::http::field::allow, "GET, POST");
            return done(std::move(rsp));
        }
        return add_document(r, user_collection, std::move(done));
    }
    const auto name = detail::decode_segment(seg[1]);
    if (!name) return done(json_error(status::bad_request, "not a user name: " + seg[1]));
    named_document* current = docs_.find_user(*name);
    switch (r.method) {
        case verb::get:
            if (current == nullptr) return done(json_error(status::not_found, "no user named " + *name));
            return done(json_response(status::ok, public_user(current->body)));
        case verb::put:
        case verb::patch: return replace_document(r, user_collection, *name, std::move(done));
        case verb::delete_: {
            if (current == nullptr) return done(json_error(status::not_found, "no user named " + *name));
            return commit(r, {std::string(kinds::user), *name, std::nullopt}, "user " + *name,
                          http::response{.status = status::no_content, .content_type = ""}, std::move(done));
        }
        default: {
            auto rsp = json_error(status::method_not_allowed, "GET, PUT, PATCH or DELETE");
            rsp.headers.set(boost::beast::http::field::allow, "GET, PUT, PATCH, DELETE");
            return done(std::move(rsp));
        }
    }
}

void admin_api::tables(request& r, reply done) {
    const bool inbound = r.segments[0] == "inbound-routes";
    const char* key = inbound ? "inbound_routes" : "routes";
    if (r.method == verb::get) {
        json::object body;
        body[key] = inbound ? docs_.inbound_routes : docs_.routes;
        return done(json_response(status::ok, body));
    }
    auto body = r.object_body();
    if (body.error) return done(std::move(*body.error));
    const auto* table = body.object.if_contains(key);
    if (table == nullptr || !table->is_array()) {
        return done(json_error(status::bad_request, std::string("must be a list (the whole table, replacing the old one)"), key));
    }
    json::object doc;
    doc[key] = table->as_array();
    const auto kind = inbound ? kinds::inbound_routes : kinds::routes;
    return commit(r, {std::string(kind), std::string(whole_document), *table}, key, json_response(status::ok, doc),
                  std::move(done));
}

}  // namespace b2b::admin
