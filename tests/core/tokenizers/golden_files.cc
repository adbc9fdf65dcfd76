#include "tests/core/tokenizers/golden_files.h"

#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace heed::tokenizers {

std::string GoldenDir() { return HEED_GOLDEN_DIR; }

std::string SharedDataDir() {
  const std::string dir = HEED_SHARED_DATA_DIR;
  if (std::filesystem::exists(dir)) return dir;
  // Developers may lack the corpora; CI must not.
  if (std::getenv("CI") != nullptr) ADD_FAILURE() << dir << " is missing";
  return "";
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> ReadGzipLines(const std::string& path, int column,
                                       size_t limit) {
  std::string contents;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return {};
  char buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0) contents.append(buffer, n);
  gzclose(file);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < contents.size() && lines.size() < limit) {
    size_t end = contents.find_first_of("\r\n", start);
    if (end == std::string::npos) end = contents.size();
    const std::string line = contents.substr(start, end - start);
    start = end + ((contents.compare(end, 2, "\r\n") == 0) ? 2 : 1);
    if (column < 0) {
      lines.push_back(line);
    } else {
      std::vector<std::string> fields = absl::StrSplit(line, '\t');
      if (static_cast<int>(fields.size()) > column) lines.push_back(fields[column]);
    }
  }
  return lines;
}

std::vector<int> ParseIds(const std::string& line) {
  std::vector<int> ids;
  for (absl::string_view s : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
    ids.push_back(std::stoi(std::string(s)));
  }
  return ids;
}

int CountMismatches(const std::string& corpus, const std::vector<std::string>& texts,
                    const std::vector<std::string>& golden,
                    const std::function<std::vector<Token>(const std::string&)>& encode) {
  int mismatches = 0;
  for (size_t i = 0; i < texts.size() && i < golden.size(); ++i) {
    const std::vector<Token> tokens = encode(texts[i]);
    if (Ids(tokens) != ParseIds(golden[i]) && ++mismatches <= 5) {
      ADD_FAILURE() << corpus << " line " << i << ": \"" << texts[i]
                    << "\"\n  heed: " << Describe(tokens) << "\n  ref:  " << golden[i];
    }
  }
  return mismatches;
}

std::vector<int> Ids(const std::vector<Token>& tokens) {
  std::vector<int> ids;
  for (const auto& t : tokens) ids.push_back(t.id);
  return ids;
}

std::string Describe(const std::vector<Token>& tokens) {
  std::vector<std::string> parts;
  for (const auto& t : tokens) parts.push_back(t.piece + "=" + std::to_string(t.id));
  return absl::StrJoin(parts, " ");
}

}  // namespace heed::tokenizers
