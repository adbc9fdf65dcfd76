// The optional config file (--config) listing the models to serve:
//
//   {"models": [
//     {"directory": "models/opus-mt-en-de",   // required
//      "name": "en-de",                       // default: the directory's name
//      "task": "translation",                 // checked against config.json
//      "compute_type": "bfloat16",            // float32 | bfloat16 | int8
//      "default": true,                       // the task's default model
//      "max_batch_size": 32, "max_batch_tokens": 1024, "max_queue_delay_ms": 2,
//      "max_queue_size": 256, "max_queue_wait_ms": 1000,
//      "max_tokens_in_flight": 16384, "max_request_cost": 8192, "threads": 1,
//      "long_input": "chunks"}                // classifiers: error | truncate | chunks
//   ]}
//
// Unset knobs take the flags' values. Relative directories are relative to
// the config file.
#ifndef HEED_SERVER_CONFIG_MODEL_CONFIG_FILE_H_
#define HEED_SERVER_CONFIG_MODEL_CONFIG_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/engine/model_host.h"

namespace heed::server {

absl::StatusOr<std::vector<ModelSpec>> ReadModelConfigFile(
    const std::string& path, const ModelHostOptions& defaults);

}  // namespace heed::server

#endif  // HEED_SERVER_CONFIG_MODEL_CONFIG_FILE_H_
