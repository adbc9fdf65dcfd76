#include "core/pipelines/sentiment_classifier.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/pipelines/input_limit.h"
#include "core/pipelines/status_details.h"

namespace heed::pipelines {

absl::StatusOr<std::unique_ptr<SentimentClassifier>> SentimentClassifier::Load(
    const std::string& model_dir, ops::ComputeType compute_type) {
  std::unique_ptr<SentimentClassifier> c(new SentimentClassifier);
  auto model = models::EncoderClassifier::Load(model_dir, compute_type);
  if (!model.ok()) return model.status();
  c->model_ = std::move(*model);
  auto tokenizer = LoadTokenizer(model_dir, c->model_->config());
  if (!tokenizer.ok()) return tokenizer.status();
  c->tokenizer_ = std::move(*tokenizer);
  return c;
}

absl::StatusOr<LongInput> ParseLongInput(absl::string_view name) {
  if (name == "error") return LongInput::kError;
  if (name == "truncate") return LongInput::kTruncate;
  if (name == "chunks") return LongInput::kChunks;
  return absl::InvalidArgumentError(absl::StrCat("unknown long-input policy \"", name,
                                                 "\" (error, truncate or chunks)"));
}

const char* LongInputName(LongInput policy) {
  switch (policy) {
    case LongInput::kError:
      return "error";
    case LongInput::kTruncate:
      return "truncate";
    case LongInput::kChunks:
      return "chunks";
  }
  return "error";
}

absl::StatusOr<Classification> SentimentClassifier::Prepare(const std::string& text,
                                                            LongInput long_input) const {
  if (text.empty()) {
    return WithReason(absl::InvalidArgumentError("text must not be empty"),
                      "EMPTY_INPUT");
  }
  Classification c;
  c.tokens = tokenizer_->Encode(text);
  const int limit = max_input_tokens();
  const int count = static_cast<int>(c.tokens.size());
  if (long_input != LongInput::kChunks || count <= limit) {
    if (absl::Status s = FitInputLimit(&c.tokens, limit,
                                       long_input == LongInput::kTruncate, &c.truncated);
        !s.ok()) {
      return Reworded(s, absl::StrCat(s.message(),
                                      " or long_input CHUNKS to classify it in "
                                      "overlapping windows"));
    }
    return c;
  }
  if (count > kMaxChunkedTokens) {
    return InputTooLong(
        count, kMaxChunkedTokens,
        absl::StrCat("the input is ", count,
                     " tokens long; long_input CHUNKS classifies at most ",
                     kMaxChunkedTokens, " tokens"));
  }
  // Sentences end at a token of only '.', '!' or '?' that whitespace (or the
  // end of the text) follows, so "3.14" does not split (abbreviations do).
  const int width = limit - 2;  // text tokens per row, between the specials
  if (width < 1) {
    return absl::FailedPreconditionError("the model is too short for chunks");
  }
  const int stride = std::max(1, width - width / 4);
  const int content_end = count - 1;
  auto ends_sentence = [&](int i) {
    const tokenizers::Token& t = c.tokens[i];
    if (t.end <= t.begin) return false;
    for (int b = t.begin; b < t.end; ++b) {
      if (text[b] != '.' && text[b] != '!' && text[b] != '?') return false;
    }
    if (i + 1 >= content_end) return true;
    const int next = c.tokens[i + 1].begin;
    return next > t.end && absl::ascii_isspace(static_cast<unsigned char>(text[t.end]));
  };
  int sentence_begin = 1;
  for (int i = 1; i < content_end; ++i) {
    if (i + 1 < content_end && !ends_sentence(i)) continue;
    // Sentence [sentence_begin, i + 1): whole, or in overlapping windows.
    for (int begin = sentence_begin;; begin += stride) {
      const int end = std::min(begin + width, i + 1);
      c.windows.emplace_back(begin, end);
      if (end == i + 1) break;
    }
    sentence_begin = i + 1;
  }
  return c;
}

namespace {

std::vector<float> Softmax(const std::vector<float>& logits) {
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float v : logits) sum += std::exp(v - max_logit);
  std::vector<float> p;
  for (float v : logits) p.push_back(static_cast<float>(std::exp(v - max_logit) / sum));
  return p;
}

}  // namespace

absl::Status SentimentClassifier::Run(std::vector<Classification*> batch,
                                      bool attributions) const {
  // One row per text, or per window of a chunked text.
  struct Row {
    const Classification* text;
    int window;  // -1: the whole text
  };
  std::vector<Row> rows;
  for (const Classification* c : batch) {
    if (c->windows.empty()) {
      rows.push_back({c, -1});
    } else {
      for (int w = 0; w < static_cast<int>(c->windows.size()); ++w)
        rows.push_back({c, w});
    }
  }
  std::vector<std::vector<float>> probabilities(rows.size());
  std::vector<std::vector<float>> attention(rows.size());
  for (size_t first = 0; first < rows.size(); first += kMaxRowsPerCall) {
    const size_t last = std::min(rows.size(), first + kMaxRowsPerCall);
    std::vector<std::vector<int32_t>> ids;
    for (size_t r = first; r < last; ++r) {
      const auto& tokens = rows[r].text->tokens;
      ids.emplace_back();
      if (rows[r].window < 0) {
        for (const auto& t : tokens) ids.back().push_back(t.id);
      } else {
        const auto [begin, end] = rows[r].text->windows[rows[r].window];
        ids.back().push_back(tokens.front().id);
        for (int i = begin; i < end; ++i) ids.back().push_back(tokens[i].id);
        ids.back().push_back(tokens.back().id);
      }
    }
    std::vector<std::vector<float>> call_attention;
    auto logits = model_->Classify(ids, attributions ? &call_attention : nullptr);
    if (!logits.ok()) return logits.status();
    for (size_t r = first; r < last; ++r) {
      probabilities[r] = Softmax((*logits)[r - first]);
      if (attributions) attention[r] = std::move(call_attention[r - first]);
    }
  }
  size_t r = 0;
  for (Classification* c : batch) {
    if (c->windows.empty()) {
      c->probabilities = std::move(probabilities[r]);
      if (attributions) c->attributions = std::move(attention[r]);
      ++r;
    } else {
      // Each window counts by the text tokens it holds; a token's attribution
      // is the weighted sum over the windows that hold it, and each window's
      // special tokens count as the text's.
      double total = 0;
      for (const auto& [begin, end] : c->windows) total += end - begin;
      c->probabilities.assign(probabilities[r].size(), 0.0f);
      if (attributions) c->attributions.assign(c->tokens.size(), 0.0f);
      for (const auto& [begin, end] : c->windows) {
        const double weight = (end - begin) / total;
        for (size_t l = 0; l < c->probabilities.size(); ++l) {
          c->probabilities[l] += static_cast<float>(weight * probabilities[r][l]);
        }
        if (attributions) {
          const std::vector<float>& a = attention[r];
          c->attributions.front() += static_cast<float>(weight * a.front());
          c->attributions.back() += static_cast<float>(weight * a.back());
          for (int i = begin; i < end; ++i) {
            c->attributions[i] += static_cast<float>(weight * a[i - begin + 1]);
          }
        }
        ++r;
      }
    }
    c->label = static_cast<int>(
        std::max_element(c->probabilities.begin(), c->probabilities.end()) -
        c->probabilities.begin());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Classification>> SentimentClassifier::Classify(
    const std::vector<std::string>& texts, LongInput long_input,
    bool attributions) const {
  std::vector<Classification> out;
  for (const std::string& text : texts) {
    auto c = Prepare(text, long_input);
    if (!c.ok()) return c.status();
    out.push_back(std::move(*c));
  }
  std::vector<Classification*> batch;
  for (Classification& c : out) batch.push_back(&c);
  if (absl::Status s = Run(batch, attributions); !s.ok()) return s;
  return out;
}

}  // namespace heed::pipelines
