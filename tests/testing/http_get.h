// A minimal HTTP/1.0 GET over a loopback socket, for scraping /metrics and
// querying Prometheus in tests without another dependency.
#ifndef HEED_TESTS_TESTING_HTTP_GET_H_
#define HEED_TESTS_TESTING_HTTP_GET_H_

#include <string>

#include "absl/status/statusor.h"

namespace heed::testing {

struct HttpResponse {
  int status_code = 0;
  std::string body;
};

absl::StatusOr<HttpResponse> HttpGet(int port, const std::string& path);

}  // namespace heed::testing

#endif  // HEED_TESTS_TESTING_HTTP_GET_H_
