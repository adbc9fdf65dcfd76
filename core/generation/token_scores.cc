#include "core/generation/token_scores.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/kernels/elementwise.h"

namespace heed::generation {

void LogSoftmaxInPlace(std::span<float> row) {
  kernels::LogSoftmax(row.data(), static_cast<int64_t>(row.size()));
}

int SampleToken(std::span<float> scores, const SamplingOptions& options,
                std::mt19937_64& rng) {
  for (float& v : scores) v /= options.temperature;
  const int vocab = static_cast<int>(scores.size());
  std::vector<int> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  int keep = vocab;
  if (options.top_k > 0) keep = std::min(keep, options.top_k);
  if (options.top_p < 1.0f) {
    // The smallest prefix of the sorted tokens whose probability reaches top_p.
    const float max_value = scores[order[0]];
    double total = 0;
    for (int i = 0; i < keep; ++i) total += std::exp(scores[order[i]] - max_value);
    double cumulative = 0;
    for (int i = 0; i < keep; ++i) {
      cumulative += std::exp(scores[order[i]] - max_value) / total;
      if (cumulative >= options.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  std::vector<double> weights(keep);
  const float max_value = scores[order[0]];
  for (int i = 0; i < keep; ++i) {
    weights[i] =
        std::isinf(scores[order[i]]) ? 0.0 : std::exp(scores[order[i]] - max_value);
  }
  std::discrete_distribution<int> pick(weights.begin(), weights.end());
  return order[pick(rng)];
}

}  // namespace heed::generation
