// What --version prints and what --help lists, for heed-server.
#ifndef HEED_SERVER_VERSION_INFO_H_
#define HEED_SERVER_VERSION_INFO_H_

#include <string>

namespace heed::server {

// "heed-server 0.2.0 (git 1a2b3c4d5e6f)\nisa: ...\noneDNN: ...\ngRPC: ...\n".
std::string VersionText();

// Makes --help list heed-server's own flags (Abseil lists only flags defined
// in a file named like the program by default) and --version print
// VersionText(). Call before absl::ParseCommandLine.
void InstallFlagsUsage();

}  // namespace heed::server

#endif  // HEED_SERVER_VERSION_INFO_H_
