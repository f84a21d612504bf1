// The admin API's read side and operations: calls, registrations, CDRs, audit, reload, log level.
#include "admin/admin_api.hpp"
#include "admin/detail/cdr_journal.hpp"
#include "admin/detail/fan_out.hpp"
#include "admin/detail/store_thread.hpp"

#include "admin/detail/api_request.hpp"
#include "admin/detail/json_response.hpp"
#include "admin/seeding.hpp"
#include "b2bua/auth_failure_json.hpp"
#include "b2bua/core.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <iterator>

namespace b2b::admin {

namespace json = boost::json;
namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using detail::json_error;
using detail::json_response;
using b2bua::rfc3339_ms;
const auto rfc3339 = [](std::chrono::system_clock::time_point t) { return rfc3339_ms(t); };

namespace {

json::object call_json(const b2bua::call_summary& c) {
    json::object o;
    o["id"] = std::to_string(c.id);
    o["direction"] = b2bua::to_string(c.direction);
    o["state"] = c.state;
    o["trunk"] = c.trunk.empty() ? json::value(nullptr) : json::value(c.trunk);
    if (!c.peer.empty()) o["pbx"] = c.peer;
    o["caller"] = c.caller;
    o["dialled"] = c.dialled;
    o["inbound_call_id"] = c.inbound_call_id;
    o["outbound_call_id"] = c.outbound_call_id.empty() ? json::value(nullptr) : json::value(c.outbound_call_id);
    o["start"] = rfc3339(c.start);
    o["answer"] = detail::rfc3339_or_null(c.answer);
    const auto now = std::chrono::system_clock::now();
    o["duration_s"] = std::chrono::duration<double>(now - c.start).count();
    return o;
}

std::optional<std::size_t> limit_param(const std::optional<std::string>& text, std::size_t fallback, std::size_t max) {
    if (!text) return fallback;
    std::size_t n = 0;
    const auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (ec != std::errc() || p != text->data() + text->size() || n == 0 || n > max) return std::nullopt;
    return n;
}

// ?since=&limit= of the stored records (CDRs, audit), or the answer saying which is wrong.
struct record_page {
    std::chrono::system_clock::time_point since{};
    std::size_t limit = 100;
    std::optional<http::response> error;
};

record_page page_of(const admin_api::request& r) {
    record_page p;
    const auto limit = limit_param(r.param("limit"), 100, 10000);
    if (!limit) {
        p.error = json_error(status::bad_request, "must be a number from 1 to 10000", "limit");
        return p;
    }
    p.limit = *limit;
    if (const auto s = r.param("since")) {
        const auto t = detail::parse_time(*s);
        if (!t) {
            p.error = json_error(status::bad_request, "must be an RFC 3339 time or seconds since 1970", "since");
            return p;
        }
        p.since = *t;
    }
    return p;
}

}  // namespace

void admin_api::calls(request& r, reply done) {
    const auto& seg = r.segments;
    if (seg.size() > 2) return done(json_error(status::not_found, "no such resource: /api/v1/" + r.path));
    if (seg.size() == 1) {
        if (r.method != verb::get) {
            auto rsp = json_error(status::method_not_allowed, "GET only");
            rsp.headers.set(boost::beast::http::field::allow, "GET");
            return done(std::move(rsp));
        }
        const auto limit = limit_param(r.param("limit"), 100, 1000);
        if (!limit) return done(json_error(status::bad_request, "must be a number from 1 to 1000", "limit"));
        std::uint64_t after = 0;
        if (const auto a = r.param("after")) {
            const auto [p, ec] = std::from_chars(a->data(), a->data() + a->size(), after);
            if (ec != std::errc() || p != a->data() + a->size()) {
                return done(json_error(status::bad_request, "must be a call id (the `next` of the previous page)", "after"));
            }
        }
        // One more than asked tells whether another page follows; each worker gives its first
        // ones after `after`, and the page is the first of them all by id.
        using page = std::vector<b2bua::call_summary>;
        return detail::on_every_worker<page>(
            workers_, http_ex_, [after, n = *limit](b2bua::core& c) { return c.list_calls(after, n + 1); },
            [n = *limit, done = std::move(done)](std::vector<page> pages) {
                page all;
                for (auto& p : pages) std::move(p.begin(), p.end(), std::back_inserter(all));
                std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
                json::array list;
                json::value next = nullptr;
                for (std::size_t i = 0; i < all.size() && i < n; ++i) list.push_back(call_json(all[i]));
                if (all.size() > n) next = json::value(std::to_string(all[n - 1].id));
                json::object body;
                body["calls"] = std::move(list);
                body["next"] = next;
                done(json_response(status::ok, body));
            });
    }
    std::uint64_t id = 0;
    const auto& text = seg[1];
    if (const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
        ec != std::errc() || p != text.data() + text.size()) {
        return done(json_error(status::not_found, "no call " + text));
    }
    // The id names the worker that holds the call (b2bua::core::worker_of_call).
    const sip_worker_view& holder = workers_[b2bua::core::worker_of_call(id, workers_.size())];
    if (r.method == verb::get) {
        return asio::post(holder.executor, [this, core = holder.core, id, done = std::move(done)]() mutable {
            auto found = std::make_shared<std::optional<b2bua::call_summary>>(core->find_call(id));
            asio::post(http_ex_, [found, id, done = std::move(done)] {
                if (!*found) return done(json_error(status::not_found, "no call " + std::to_string(id) + " in progress"));
                done(json_response(status::ok, call_json(**found)));
            });
        });
    }
    if (r.method == verb::delete_) {
        const std::string remote = r.remote;
        return asio::post(holder.executor, [this, core = holder.core, id, remote, done = std::move(done)]() mutable {
            const auto action = core->end_call(id);
            const std::string what = action ? std::string(*action) : std::string();
            asio::post(http_ex_, [this, id, what, remote, done = std::move(done)] {
                if (what.empty()) return done(json_error(status::not_found, "no call " + std::to_string(id) + " in progress"));
                record_audit(remote, "DELETE /api/v1/calls/" + std::to_string(id), "call " + std::to_string(id), 202);
                json::object o;
                o["id"] = std::to_string(id);
                o["action"] = what;
                done(json_response(status::accepted, o));
            });
        });
    }
    auto rsp = json_error(status::method_not_allowed, "GET or DELETE");
    rsp.headers.set(boost::beast::http::field::allow, "GET, DELETE");
    done(std::move(rsp));
}

void admin_api::registrations(request&, reply done) {
    asio::post(sip_ex_, [this, done = std::move(done)]() mutable {
        json::array upstream;
        const auto wall = [this](sip::timer_service::time_point t) -> json::value {
            if (t == sip::timer_service::time_point{}) return nullptr;
            return json::value(rfc3339(core_.wall_time(t)));
        };
        for (const auto& t : core_.trunks()) {
            if (!t.registration) continue;
            json::object o;
            o["trunk"] = t.trunk->name;
            if (t.registered_by) {
                // Cluster: another node holds the lease and registers it; this node's client is
                // idle and has nothing to say (ask the holder for the details).
                o["state"] = "elsewhere";
                o["registered_by"] = t.registered_by->empty() ? json::value(nullptr) : json::value(*t.registered_by);
                o["expires_s"] = 0;
                for (const auto* key : {"expires", "last_status", "reason", "warning", "failure", "next_attempt"}) {
                    o[key] = nullptr;
                }
                upstream.push_back(std::move(o));
                continue;
            }
            const auto& s = *t.registration;
            o["state"] = registration::to_string(s.state);
            o["registered_by"] = nullptr;
            o["expires_s"] = s.granted.count();
            o["expires"] = s.state == registration::registration_state::registered ? wall(s.expires_at) : json::value(nullptr);
            o["last_status"] = s.last_status == 0 ? json::value(nullptr) : json::value(s.last_status);
            o["reason"] = s.last_reason.empty() ? json::value(nullptr) : json::value(s.last_reason);
            o["warning"] = s.last_warning.empty() ? json::value(nullptr) : json::value(s.last_warning);
            o["failure"] = s.failure ? json::value(registration::to_string(*s.failure)) : json::value(nullptr);
            o["next_attempt"] = wall(s.next_attempt);
            upstream.push_back(std::move(o));
        }
        json::array downstream;
        core_.pbx_bindings().for_each_binding([&](const registration::binding& b) {
            json::object o;
            o["user"] = b.user;
            o["contact"] = b.contact;
            o["source"] = b.source.remote.to_string();
            o["transport"] = sip::to_string(b.source.transport);
            o["behind_nat"] = b.behind_nat;
            json::array path;  // RFC 3327: the proxies calls to it go through
            for (const auto& entry : b.path) path.emplace_back(entry);
            o["path"] = std::move(path);
            o["expires"] = wall(b.expires_at);
            downstream.push_back(std::move(o));
        });
        json::object body;
        body["upstream"] = std::move(upstream);
        body["downstream"] = std::move(downstream);
        auto text = std::make_shared<json::object>(std::move(body));
        asio::post(http_ex_, [text, done = std::move(done)] { done(json_response(status::ok, *text)); });
    });
}

void admin_api::auth_failures(request& r, reply done) {
    const auto& seg = r.segments;
    if (seg.size() != 2 || (seg[1] != "failures" && seg[1] != "summary")) {
        return done(json_error(status::not_found, "no such resource: /api/v1/" + r.path));
    }
    if (r.method != verb::get) {
        auto rsp = json_error(status::method_not_allowed, "GET only");
        rsp.headers.set(boost::beast::http::field::allow, "GET");
        return done(std::move(rsp));
    }
    if (seg[1] == "summary") {
        const auto window = detail::parse_duration(r.param("window").value_or("1h"));
        if (!window) return done(json_error(status::bad_request, "must be a duration such as 90s, 15m, 1h or 2d", "window"));
        // Each worker logs what it handled; the summary is over all of them, every source counted.
        return detail::on_every_worker<b2bua::auth_failure_summary>(
            workers_, http_ex_,
            [w = *window](b2bua::core& c) { return c.auth_failures().summary(w, c.wall_now(), std::numeric_limits<std::size_t>::max()); },
            [done = std::move(done)](std::vector<b2bua::auth_failure_summary> parts) {
                done(json_response(status::ok, b2bua::to_json(b2bua::merge_summaries(parts))));
            });
    }
    b2bua::auth_failure_filter filter;
    if (const auto d = r.param("direction")) {
        if (*d == "downstream") {
            filter.direction = b2bua::auth_direction::downstream;
        } else if (*d == "upstream") {
            filter.direction = b2bua::auth_direction::upstream;
        } else {
            return done(json_error(status::bad_request, "must be downstream or upstream", "direction"));
        }
    }
    if (const auto reason = r.param("reason")) {
        for (auth::failure f : auth::all_failures()) {
            if (auth::to_string(f) == *reason) filter.reason = f;
        }
        if (!filter.reason) return done(json_error(status::bad_request, "'" + *reason + "' is not a failure reason", "reason"));
    }
    filter.peer = r.param("peer").value_or("");
    if (const auto s = r.param("since")) {
        filter.since = detail::parse_time(*s);
        if (!filter.since) return done(json_error(status::bad_request, "must be an RFC 3339 time or seconds since 1970", "since"));
    }
    const auto limit = limit_param(r.param("limit"), 100, 10000);
    if (!limit) return done(json_error(status::bad_request, "must be a number from 1 to 10000", "limit"));
    filter.limit = *limit;
    using entries = std::vector<b2bua::auth_failure_entry>;
    detail::on_every_worker<entries>(
        workers_, http_ex_, [filter](b2bua::core& c) { return c.auth_failures().query(filter); },
        [limit = filter.limit, done = std::move(done)](std::vector<entries> by_worker) {
            done(json_response(status::ok, b2bua::to_json(b2bua::merge_failures(std::move(by_worker), limit))));
        });
}

namespace {

json::object audit_json(const audit_entry& a) {
    json::object o;
    o["time"] = rfc3339(a.time);
    o["remote"] = a.remote;
    o["operation"] = a.operation;
    o["object"] = a.object;
    o["result"] = a.result;
    return o;
}

// A page of stored records (CDRs, audit entries), read on the store's thread by `read`, answered
// on `back` as {key: [to_json(record)...]}.
template <class Record, class Read, class ToJson>
void answer_page(detail::store_thread& st, const asio::any_io_executor& back, Read read, ToJson to_json,
                 const char* key, admin_api::reply done) {
    st.run(std::move(read), back, [to_json, key, done = std::move(done)](store_result<std::vector<Record>> list) {
        if (!list) {
            return done(json_error(status::service_unavailable,
                                   std::string("the store cannot be read: ") + list.error().what()));
        }
        json::array out;
        for (const auto& record : *list) out.push_back(to_json(record));
        json::object body;
        body[key] = std::move(out);
        done(json_response(status::ok, body));
    });
}

}  // namespace

void admin_api::cdrs(request& r, reply done) {
    const auto page = page_of(r);
    if (page.error) return done(std::move(*page.error));
    flush_cdrs();  // what ended a moment ago is there too: the store's thread runs that first
    answer_page<cdr>(
        *store_, http_ex_, [since = page.since, limit = page.limit](store& st) { return st.list_cdrs(since, limit); },
        detail::cdr_json, "cdrs", std::move(done));
}

void admin_api::audit(request& r, reply done) {
    const auto page = page_of(r);
    if (page.error) return done(std::move(*page.error));
    answer_page<audit_entry>(
        *store_, http_ex_, [since = page.since, limit = page.limit](store& st) { return st.list_audit(since, limit); },
        audit_json, "audit", std::move(done));
}

void admin_api::record_audit(std::string remote, std::string operation, std::string object, int result) {
    change_set audit_only;
    audit_only.audit = audit_entry{std::chrono::system_clock::now(), std::move(remote), std::move(operation),
                                   std::move(object), result};
    store_->run([audit_only = std::move(audit_only)](store& st) { return st.commit(audit_only); }, http_ex_,
                note_store_failure());
}

std::function<void(store_result<void>)> admin_api::note_store_failure() {
    return [self = weak_from_this()](store_result<void> w) {
        if (auto api = self.lock(); api && !w) api->store_problem_ = w.error().what();
    };
}

// POST /api/v1/reload has its turn already (handle).
void admin_api::reload(request& r, reply done) { reload_now(r.remote, std::move(done)); }

std::string admin_api::store_readiness() {
    const auto now = std::chrono::steady_clock::now();
    if (!probing_ && (!store_problem_.empty() || now - store_probed_ >= std::chrono::seconds(10))) {
        probing_ = true;
        store_probed_ = now;
        store_->run([](store& st) { return st.writable(); }, http_ex_, [self = weak_from_this()](store_result<void> w) {
            auto api = self.lock();
            if (!api) return;
            api->probing_ = false;
            if (!w) {
                api->store_problem_ = w.error().what();
            } else {
                api->store_problem_.clear();
            }
        });
    }
    return store_problem_.empty() ? std::string() : "store not writable: " + store_problem_;
}

void admin_api::reload_all(std::string who, reply done) {
    take_turn([this, who = std::move(who)](reply d) { reload_now(who, std::move(d)); }, std::move(done));
}

void admin_api::reload_now(std::string who, reply done) {
    // What the store owns (trunks, users, routes) is re-read from the store, so an
    // `--import-config` into it takes effect; the rest (log level, certificates, limits) from
    // their files.
    store_->run([](store& st) { return load_documents(st); }, http_ex_,
                [self = weak_from_this(), who = std::move(who), done = std::move(done)](
                    boost::system::result<document_set, std::string> loaded) mutable {
                    if (auto api = self.lock()) api->apply_reload(std::move(who), std::move(loaded), std::move(done));
                });
}

void admin_api::apply_reload(std::string who, boost::system::result<document_set, std::string> loaded, reply done) {
    if (!loaded) return done(json_error(status::service_unavailable, "the store cannot be read: " + loaded.error()));
    if (!(*loaded == docs_)) {
        auto v = validate(settings_.base_config, *loaded, {}, {});
        if (v.error) {
            return done(json_error(status::unprocessable_entity, "the store's configuration is not valid: " + v.error->message,
                                   v.error->field));
        }
        docs_ = std::move(*loaded);
        auto cfg = std::make_shared<b2bua::config>(std::move(*v.config));
        for (const auto& w : workers_) {
            asio::post(w.executor, [core = w.core, cfg] {
                core->reconfigure(cfg->upstream.trunks, cfg->routes, cfg->inbound_routes);
                core->set_users(cfg->downstream.users);
            });
        }
    }
    const std::string remote = std::move(who);
    asio::post(sip_ex_, [this, remote, done = std::move(done)]() mutable {
        std::vector<std::string> reloaded;
        std::string problem;
        try {
            if (settings_.reload) reloaded = settings_.reload();
        } catch (const std::exception& e) {
            problem = e.what();
        }
        asio::post(http_ex_, [this, reloaded, problem, remote, done = std::move(done)] {
            record_audit(remote, "POST /api/v1/reload", "configuration", problem.empty() ? 200 : 422);
            if (!problem.empty()) return done(json_error(status::unprocessable_entity, "reload failed, nothing changed: " + problem));
            json::array list;
            for (const auto& what : reloaded) list.push_back(json::value(what));
            json::object body;
            body["reloaded"] = std::move(list);
            done(json_response(status::ok, body));
        });
    });
}

void admin_api::log_level(request& r, reply done) {
    if (r.method == verb::get) {
        json::object body;
        body["level"] = std::string(spdlog::level::to_string_view(spdlog::default_logger()->level()).data(),
                                    spdlog::level::to_string_view(spdlog::default_logger()->level()).size());
        return done(json_response(status::ok, body));
    }
    auto body = r.object_body();
    if (body.error) return done(std::move(*body.error));
    const auto* level = body.object.if_contains("level");
    if (level == nullptr || !level->is_string() || !b2bua::valid_log_level(level->as_string())) {
        return done(json_error(status::bad_request, "must be one of trace, debug, info, warn, error, critical, off", "level"));
    }
    const auto lvl = spdlog::level::from_str(std::string(level->as_string()));
    // spdlog's loggers are thread-safe: their level is an atomic.
    spdlog::apply_all([lvl](const std::shared_ptr<spdlog::logger>& l) { l->set_level(lvl); });
    record_audit(r.remote, r.operation(), "log level " + std::string(level->as_string()), 200);
    json::object out;
    out["level"] = level->as_string();
    done(json_response(status::ok, out));
}

// ------------------------------------------------------------------------------------ CDRs

void admin_api::record_cdr(b2bua::call_record record) {
    cdr c;
    c.id = std::to_string(record.call.id);
    c.direction = std::string(b2bua::to_string(record.call.direction));
    if (!record.call.trunk.empty()) c.trunk = record.call.trunk;
    c.caller = record.call.caller;
    c.dialled = record.call.dialled;
    c.start = record.call.start;
    c.answer = record.call.answer;
    c.end = record.end;
    if (record.call.answer) c.duration = std::chrono::duration_cast<std::chrono::milliseconds>(record.end - *record.call.answer);
    c.result = record.result;
    c.status = record.status;
    if (record.hangup_by != b2bua::hangup_party::none) c.hangup_by = std::string(b2bua::to_string(record.hangup_by));
    c.inbound_call_id = record.call.inbound_call_id;
    if (!record.call.outbound_call_id.empty()) c.outbound_call_id = record.call.outbound_call_id;
    cdrs_->add(std::move(c));
}

void admin_api::schedule_flush() {
    if (stopped_) return;
    cdr_timer_.expires_after(std::chrono::seconds(1));
    cdr_timer_.async_wait([self = weak_from_this()](boost::system::error_code ec) {
        auto api = self.lock();
        if (ec || !api) return;
        // One flush at a time from here: on a disk that takes seconds per sync, the next one
        // takes all that ended meanwhile, rather than a queue of flushes forming behind it.
        if (!api->flushing_) api->flush_cdrs();
        api->schedule_flush();
    });
}

void admin_api::flush_cdrs() {
    flushing_ = true;
    store_->run([cdrs = cdrs_](store& st) { return cdrs->flush(st, std::chrono::system_clock::now()); }, http_ex_,
                [self = weak_from_this()](store_result<void> w) {
                    auto api = self.lock();
                    if (!api) return;
                    api->flushing_ = false;
                    if (!w) api->store_problem_ = w.error().what();
                });
}

void admin_api::record_bindings(std::string user, std::vector<std::pair<std::string, std::string>> bindings) {
    store_->run([user = std::move(user), bindings = std::move(bindings)](store& st) {
        return st.replace_bindings(user, bindings);
    }, http_ex_, note_store_failure());
}

void admin_api::keep_node_state(std::string key, std::string value) {
    store_->run([key = std::move(key), value = std::move(value)](store& st) { return st.put_state(key, value); },
                http_ex_, note_store_failure());
}

void admin_api::shutdown() {
    stopped_ = true;
    cdr_timer_.cancel();
    flush_cdrs();  // the store's thread runs it before it ends (~store_thread)
}

}  // namespace b2b::admin
