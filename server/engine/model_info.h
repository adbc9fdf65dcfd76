// What the engine says about a served model, as plain C++ (the gRPC front end
// turns it into heed.v1.Model), and the tasks' names.
#ifndef HEED_SERVER_ENGINE_MODEL_INFO_H_
#define HEED_SERVER_ENGINE_MODEL_INFO_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/ops/compute_type.h"
#include "core/pipelines/model_registry.h"

namespace heed::server {

struct ModelInfo {
  std::string name;
  pipelines::Task task = pipelines::Task::kTranslation;
  std::string architecture;
  std::string version;
  ops::ComputeTypeChoice compute;
  std::string isa;  // the instruction-set level it computes at
  int max_input_tokens = 0;
  std::vector<std::string> labels;  // classifiers
  bool is_default = false;          // the default model of its task
};

inline constexpr pipelines::Task kAllTasks[] = {pipelines::Task::kTranslation,
                                                pipelines::Task::kSummarization,
                                                pipelines::Task::kSentiment};

// "translation", "summarization", "sentiment": metric labels, logs, flags.
const char* TaskLabel(pipelines::Task task);
// The API's enum names, "TASK_TRANSLATION" and so on, for error messages.
const char* ApiTaskName(pipelines::Task task);
// The task of a TaskLabel; nullopt for anything else.
std::optional<pipelines::Task> TaskFromLabel(absl::string_view label);

// A caller-chosen name as error messages quote it: at most 64 bytes, cut at a
// UTF-8 character boundary and marked "..." when longer, so that a huge name
// cannot blow up the reply's metadata.
std::string QuoteName(absl::string_view name);

}  // namespace heed::server

#endif  // HEED_SERVER_ENGINE_MODEL_INFO_H_
