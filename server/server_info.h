// What GetServerInfo answers: the build, the instruction set, the compute
// types as they run here, and the limits every request meets.
#ifndef HEED_SERVER_SERVER_INFO_H_
#define HEED_SERVER_SERVER_INFO_H_

#include "heed/v1/inference.pb.h"
#include "server/config/server_options.h"

namespace heed::server {

heed::v1::ServerInfo BuildServerInfo(const ServerOptions& options, int compute_threads);

}  // namespace heed::server

#endif  // HEED_SERVER_SERVER_INFO_H_
