// Translates its second argument with the heed-server at its first, and
// prints the translation, or the error with its details (exit 1).
#include <cstdio>
#include <string>

#include "client/lib/heed_client.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: translate HOST:PORT TEXT\n");
    return 2;
  }
  heed::client::ClientOptions options;
  options.address = argv[1];
  heed::client::HeedClient client(options);
  heed::v1::TranslateRequest request;
  request.set_text(argv[2]);
  absl::StatusOr<heed::v1::TranslateResponse> response = client.Translate(request);
  if (!response.ok()) {
    std::fprintf(stderr, "%s\n", heed::client::DescribeError(response.status()).c_str());
    return 1;
  }
  std::printf("%s\n", response->text().c_str());
  return 0;
}
