// Reading JSON files (config.json, generation_config.json, tokenizer files)
// with errors that name the file and the position of the problem.
#ifndef HEED_CORE_IO_JSON_FILE_H_
#define HEED_CORE_IO_JSON_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace heed::io {

absl::StatusOr<std::string> ReadFile(const std::string& path);
absl::StatusOr<nlohmann::json> ParseJson(absl::string_view text,
                                         absl::string_view source);
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

}  // namespace heed::io

#endif  // HEED_CORE_IO_JSON_FILE_H_
