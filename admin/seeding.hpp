// The store and the configuration file: the file seeds the store once; afterwards the store owns
// trunks, users and routes.
#pragma once

#include "admin/documents.hpp"
#include "admin/store.hpp"

#include <boost/system/result.hpp>
#include <yaml-cpp/node/node.h>

#include <string>

namespace b2b::admin {

/// The store's documents. Error: why they cannot be read (a sentence).
boost::system::result<document_set, std::string> load_documents(store& st);

/// On first start (the store not seeded yet) writes the file's trunks, users and routes into the
/// store and returns them; afterwards returns the store's. Either way the documents the process
/// runs with. Throws std::runtime_error when the store cannot be read or written, or when its
/// documents are not a valid configuration together with the file (naming the field).
document_set seed_or_load(store& st, const YAML::Node& file_root);

/// The change that makes the store hold exactly `docs` (puts for every document, removes for
/// what is no longer there), given what it holds now.
change_set replace_all(const document_set& now, const document_set& docs);

/// The differences between two document sets, one line each ("trunk acme: changed",
/// "routes: changed"), for --import-config. Empty when equal.
std::vector<std::string> differences(const document_set& before, const document_set& after);

}  // namespace b2b::admin
