#include "server/engine/model_info.h"

#include "absl/strings/str_cat.h"

namespace heed::server {

const char* TaskLabel(pipelines::Task task) {
  switch (task) {
    case pipelines::Task::kTranslation:
      return "translation";
    case pipelines::Task::kSummarization:
      return "summarization";
    case pipelines::Task::kSentiment:
      return "sentiment";
  }
  return "unspecified";
}

const char* ApiTaskName(pipelines::Task task) {
  switch (task) {
    case pipelines::Task::kTranslation:
      return "TASK_TRANSLATION";
    case pipelines::Task::kSummarization:
      return "TASK_SUMMARIZATION";
    case pipelines::Task::kSentiment:
      return "TASK_SENTIMENT";
  }
  return "TASK_UNSPECIFIED";
}

std::string QuoteName(absl::string_view name) {
  constexpr size_t kMaxBytes = 64;
  if (name.size() <= kMaxBytes) return absl::StrCat("\"", name, "\"");
  size_t end = kMaxBytes;
  // Back off continuation bytes (10xxxxxx) to a character boundary.
  while (end > 0 && (static_cast<unsigned char>(name[end]) & 0xC0) == 0x80) --end;
  return absl::StrCat("\"", name.substr(0, end), "...\" (", name.size(), " bytes)");
}

std::optional<pipelines::Task> TaskFromLabel(absl::string_view label) {
  for (pipelines::Task task : kAllTasks) {
    if (label == TaskLabel(task)) return task;
  }
  return std::nullopt;
}

}  // namespace heed::server
