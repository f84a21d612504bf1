// b2bua --export-config and --import-config: the store's configuration as a file, and back.
#pragma once

#include <iosfwd>
#include <string>

namespace b2b::admin {

/// Writes the configuration the process runs with (the file at `config_path`, with the
/// trunks, users and routes the store owns) as YAML to `out`. Returns the exit status
/// (errors to `err`, naming the field or file).
int export_config(const std::string& config_path, std::ostream& out, std::ostream& err);

/// Replaces the store's trunks, users and routes with those of `file` (a configuration file),
/// in one transaction, after validating them with the rest of `config_path`; prints the
/// differences. With `dry_run` only validates and prints. Returns the exit status.
int import_config(const std::string& config_path, const std::string& file, bool dry_run, std::ostream& out,
                  std::ostream& err);

}  // namespace b2b::admin
