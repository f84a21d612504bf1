// Test helper: reads the RFC 4475 torture corpus and the verdict table of its INDEX.md.
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::sip::test {

inline std::filesystem::path corpus_dir() {
    return std::filesystem::path(B2B_SHARED_DIR) / "testdata" / "rfc4475";
}

/// The file's bytes, unmodified (binary mode: CRLFs and NULs stay as they are).
inline std::string read_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string corpus_file(std::string_view name) {
    return read_bytes(corpus_dir() / std::string(name));
}

enum class verdict { accept, reject, semantic_reject, app_layer, unreferenced, unrecognized };

struct index_row {
    std::string file;
    std::string verdict_text;
    verdict v = verdict::unrecognized;
    std::size_t bytes = 0;
};

inline verdict classify(std::string_view text) {
    if (text == "**ACCEPT**") return verdict::accept;
    if (text == "**REJECT**") return verdict::reject;
    if (text == "**PARSE-OK, semantic reject**") return verdict::semantic_reject;
    if (text == "**PARSE-OK, app-layer**") return verdict::app_layer;
    if (text == "**UNREFERENCED**") return verdict::unreferenced;
    return verdict::unrecognized;
}

inline std::string trim(std::string s) {
    const auto b = s.find_first_not_of(' ');
    const auto e = s.find_last_not_of(' ');
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

/// Rows of the "Files" table, keyed by file name. A row whose verdict cell is not one of the
/// legend's values keeps verdict::unrecognized so the test can fail on it.
inline std::map<std::string, index_row> read_index() {
    std::map<std::string, index_row> rows;
    std::istringstream in(read_bytes(corpus_dir() / "INDEX.md"));
    std::string line;
    while (std::getline(in, line)) {
        if (!line.starts_with("| `")) continue;
        std::vector<std::string> cells;
        std::size_t p = 1;
        while (p < line.size()) {
            const std::size_t q = line.find('|', p);
            if (q == std::string::npos) break;
            cells.push_back(trim(line.substr(p, q - p)));
            p = q + 1;
        }
        // | File | Section | Title | Verdict | What it tests | Bytes | SHA-256 |
        if (cells.size() != 7) continue;
        index_row r;
        r.file = cells[0];
        if (r.file.size() > 2 && r.file.front() == '`' && r.file.back() == '`') {
            r.file = r.file.substr(1, r.file.size() - 2);
        }
        r.verdict_text = cells[3];
        r.v = classify(cells[3]);
        r.bytes = static_cast<std::size_t>(std::stoul(cells[5]));
        rows[r.file] = r;
    }
    return rows;
}

/// Every *.dat file of the corpus directory, sorted.
inline std::vector<std::string> corpus_files() {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(corpus_dir())) {
        if (e.path().extension() == ".dat") names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace b2b::sip::test
