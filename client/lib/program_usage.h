// --help and --version for heed's client programs (heed, heed-loadgen).
#ifndef HEED_CLIENT_LIB_PROGRAM_USAGE_H_
#define HEED_CLIENT_LIB_PROGRAM_USAGE_H_

#include <string>

namespace heed::client {

// Makes --help list the flags defined in client/ (Abseil's default lists only
// flags from a file named like the program) and --version print
// "<program> <version> (git <revision>)\ngRPC: <version>\n". Call before
// absl::ParseCommandLine.
void InstallProgramUsage(const std::string& program);

}  // namespace heed::client

#endif  // HEED_CLIENT_LIB_PROGRAM_USAGE_H_
