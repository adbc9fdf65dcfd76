// Terminal renderings of what a model attended to: a source × target grid for
// translations and summaries, and per-token bars for sentiment.
#ifndef HEED_CLIENT_CLI_EXPLAIN_H_
#define HEED_CLIENT_CLI_EXPLAIN_H_

#include <string>

#include "heed/v1/inference.pb.h"

namespace heed::cli {

// One row per target token, one column per source token, shaded by weight.
std::string RenderAlignment(const heed::v1::Alignment& alignment);
// One line per token with a bar proportional to its attribution.
std::string RenderAttributions(const heed::v1::SentimentResult& result);

}  // namespace heed::cli

#endif  // HEED_CLIENT_CLI_EXPLAIN_H_
