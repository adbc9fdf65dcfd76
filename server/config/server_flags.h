// Command-line flags of heed-server and their translation into ServerOptions.
#ifndef HEED_SERVER_CONFIG_SERVER_FLAGS_H_
#define HEED_SERVER_CONFIG_SERVER_FLAGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/config/server_options.h"

namespace heed::server {

// Reads the parsed flags (absl::ParseCommandLine must have run).
absl::StatusOr<ServerOptions> ServerOptionsFromFlags();

// --isa: the instruction-set ceiling, or empty. main() exports it as HEED_ISA
// before anything reads the ceiling (core/cpu decides it once per process).
std::string IsaFlag();

// --log_level, read before the options so that their errors are logged.
std::string LogLevelFlag();

// --default_model entries "TASK=NAME" by task; a task named twice with two
// names, an unknown task or an empty name is an error.
absl::StatusOr<std::map<pipelines::Task, std::string>> ParseDefaultModels(
    const std::vector<std::string>& entries);

}  // namespace heed::server

#endif  // HEED_SERVER_CONFIG_SERVER_FLAGS_H_
