// One document put or removed: what a change made through the API and a change from another
// node both come down to, before it is validated, written and applied.
#pragma once

#include "admin/documents.hpp"
#include "admin/store.hpp"

#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <optional>
#include <string>

namespace b2b::admin::detail {

/// One document of the store, put whole or removed. A trunk is keyed by its name and a user by
/// its username; each route table (kinds::routes, kinds::inbound_routes) is one document keyed
/// by `whole_document`, only ever replaced.
struct document_change {
    std::string kind;  ///< kinds::trunk, kinds::user, kinds::routes or kinds::inbound_routes
    std::string key;
    /// The whole document as stored, secrets included: an object for a trunk or a user, an
    /// array for a table. None for a removal.
    std::optional<boost::json::value> document;

    bool is_removal() const noexcept { return !document.has_value(); }

    bool operator==(const document_change&) const = default;

    /// "kind/key": which document it changes, whatever the change.
    std::string document_name() const { return kind + '/' + key; }
};

/// `docs` with `change` made. A put replaces the document with the same key, or adds it after
/// the others; removing a document that is not there changes nothing, so that making a change
/// twice is the same as making it once. Error: why the change cannot be made (an unknown kind,
/// a document of the wrong shape, a name member that is not the key, a table removed).
boost::system::result<document_set, std::string> with_change(document_set docs, const document_change& change);

/// Adds the store operation that writes `change` to `changes`.
void add_to(change_set& changes, const document_change& change);

}  // namespace b2b::admin::detail
