#include "server/config/model_config_file.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/io/json_file.h"

namespace heed::server {
namespace {

absl::Status Bad(const std::string& path, size_t index, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": models[", index, "]: ", what));
}

}  // namespace

absl::StatusOr<std::vector<ModelSpec>> ReadModelConfigFile(
    const std::string& path, const ModelHostOptions& defaults) {
  absl::StatusOr<nlohmann::json> json = io::ReadJsonFile(path);
  if (!json.ok()) return json.status();
  if (!json->is_object() || !json->contains("models") || !(*json)["models"].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": needs a \"models\" array"));
  }
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  std::vector<ModelSpec> specs;
  const auto& models = (*json)["models"];
  for (size_t i = 0; i < models.size(); ++i) {
    const auto& m = models[i];
    if (!m.is_object() || !m.contains("directory") || !m["directory"].is_string()) {
      return Bad(path, i, "needs a \"directory\" string");
    }
    ModelSpec spec;
    spec.compute_type = defaults.compute_type;
    spec.batching = defaults.batching;
    spec.max_request_cost = defaults.max_request_cost;
    spec.long_input = defaults.long_input;
    std::filesystem::path dir = m["directory"].get<std::string>();
    spec.directory = (dir.is_absolute() ? dir : base / dir).string();
    for (const auto& [key, value] : m.items()) {
      auto positive_int = [&](int* field) -> absl::Status {
        if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
            value.get<int64_t>() > (1 << 24)) {
          return Bad(path, i,
                     absl::StrCat("\"", key, "\" must be a non-negative integer"));
        }
        *field = value.get<int>();
        return absl::OkStatus();
      };
      absl::Status status;
      if (key == "directory") {
        continue;
      } else if (key == "name" && value.is_string()) {
        spec.name = value.get<std::string>();
      } else if (key == "task" && value.is_string()) {
        const std::string task = value.get<std::string>();
        spec.task = TaskFromLabel(task);
        if (!spec.task) return Bad(path, i, absl::StrCat("unknown task \"", task, "\""));
      } else if (key == "compute_type" && value.is_string()) {
        auto type = ops::ParseComputeType(value.get<std::string>());
        if (!type.ok()) return Bad(path, i, std::string(type.status().message()));
        spec.compute_type = *type;
      } else if (key == "long_input" && value.is_string()) {
        auto policy = pipelines::ParseLongInput(value.get<std::string>());
        if (!policy.ok()) return Bad(path, i, std::string(policy.status().message()));
        spec.long_input = *policy;
      } else if (key == "default" && value.is_boolean()) {
        spec.is_default = value.get<bool>();
      } else if (key == "max_batch_size") {
        status = positive_int(&spec.batching.max_batch_size);
      } else if (key == "max_batch_tokens") {
        status = positive_int(&spec.batching.max_batch_tokens);
      } else if (key == "max_queue_size") {
        status = positive_int(&spec.batching.max_queue_size);
      } else if (key == "max_tokens_in_flight") {
        status = positive_int(&spec.batching.max_tokens_in_flight);
      } else if (key == "max_request_cost") {
        int cost = 0;
        status = positive_int(&cost);
        spec.max_request_cost = cost;
      } else if (key == "threads") {
        status = positive_int(&spec.threads);
      } else if (key == "max_queue_wait_ms") {
        int ms = 0;
        status = positive_int(&ms);  // 0 turns the bound off
        spec.batching.max_queue_wait = absl::Milliseconds(ms);
      } else if (key == "max_queue_delay_ms") {
        int ms = 0;
        status = positive_int(&ms);
        spec.batching.max_queue_delay = absl::Milliseconds(ms);
      } else {
        return Bad(path, i, absl::StrCat("unknown or mistyped field \"", key, "\""));
      }
      if (!status.ok()) return status;
    }
    if (spec.batching.max_batch_size < 1 || spec.batching.max_queue_size < 1 ||
        spec.batching.max_batch_tokens < 1) {
      return Bad(
          path, i,
          "max_batch_size, max_batch_tokens and max_queue_size must be at least 1");
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace heed::server
