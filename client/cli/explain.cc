#include "client/cli/explain.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace heed::cli {
namespace {

// Five shades from nothing to everything.
const char* Shade(float weight) {
  static const char* const kShades[] = {"  ", "░░", "▒▒", "▓▓", "██"};
  const int level = std::clamp(static_cast<int>(weight * 5), 0, 4);
  return kShades[level];
}

std::string Label(const heed::v1::Token& token, size_t width) {
  std::string piece = token.piece().empty() ? "·" : token.piece();
  if (piece.size() > width) piece = piece.substr(0, width);
  return piece;
}

}  // namespace

std::string RenderAlignment(const heed::v1::Alignment& a) {
  const int rows = a.target_tokens_size(), cols = a.source_tokens_size();
  if (rows == 0 || cols == 0 || a.weights_size() != rows * cols)
    return "(no alignment)\n";
  std::string out;
  // Column headers: source token i is written vertically as its index, with
  // a legend below.
  out += absl::StrFormat("%-14s", "");
  for (int c = 0; c < cols; ++c) out += absl::StrFormat("%-2d", c % 100);
  out += "\n";
  for (int r = 0; r < rows; ++r) {
    out += absl::StrFormat("%-14s", Label(a.target_tokens(r), 13));
    for (int c = 0; c < cols; ++c) out += Shade(a.weights(r * cols + c));
    out += "\n";
  }
  out += "source:";
  for (int c = 0; c < cols; ++c)
    absl::StrAppend(&out, " ", c, "=", Label(a.source_tokens(c), 16));
  out += "\n";
  return out;
}

std::string RenderAttributions(const heed::v1::SentimentResult& result) {
  std::string out;
  for (const auto& a : result.attributions()) {
    const int width = static_cast<int>(a.weight() * 40 + 0.5f);
    out += absl::StrFormat("  %-16s %5.3f %s\n", Label(a.token(), 16), a.weight(),
                           std::string(width, '#'));
  }
  return out;
}

}  // namespace heed::cli
