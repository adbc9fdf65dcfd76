#include "server/engine/model_info.h"

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

std::optional<pipelines::Task> TaskFromLabel(absl::string_view label) {
  for (pipelines::Task task : kAllTasks) {
    if (label == TaskLabel(task)) return task;
  }
  return std::nullopt;
}

}  // namespace heed::server
