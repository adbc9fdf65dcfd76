#include "server/service/request_validation.h"

#include <random>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/pipelines/input_limit.h"
#include "core/pipelines/status_details.h"

namespace heed::server {
namespace {

constexpr float kMinTemperature = 1e-6f;

// Written so that NaN, which compares false with everything, is out of range.
template <typename T>
absl::Status Range(const char* field, T value, T min, T max) {
  if (!(value >= min && value <= max)) {
    return pipelines::InvalidField("OPTION_OUT_OF_RANGE", absl::StrCat("options.", field),
                                   absl::StrCat("options.", field, " must be between ",
                                                min, " and ", max, ", got ", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateText(const std::string& text, const std::string& field) {
  if (text.empty()) {
    return pipelines::InvalidField("EMPTY_INPUT", field,
                                   absl::StrCat(field, " must not be empty"));
  }
  if (text.size() > kMaxTextBytes) {
    return pipelines::WithMetadata(
        pipelines::InvalidField("INPUT_TOO_LARGE", field,
                                absl::StrCat(field, " is ", text.size(),
                                             " bytes; the limit is ", kMaxTextBytes)),
        "limit", absl::StrCat(kMaxTextBytes));
  }
  if (absl::Status s = pipelines::CheckInputText(text); !s.ok()) {
    return pipelines::WithField(pipelines::Prefixed(s, absl::StrCat(field, " ")), field);
  }
  return absl::OkStatus();
}

absl::StatusOr<pipelines::GenerationRequest> ToGenerationRequest(
    const std::string& text, const heed::v1::GenerationOptions& o, bool truncate_input,
    bool return_alignment, uint64_t* seed) {
  if (absl::Status s = ValidateText(text, "text"); !s.ok()) return s;
  pipelines::GenerationRequest r;
  r.text = text;
  r.truncate_input = truncate_input;
  r.return_alignment = return_alignment;
  if (o.has_max_output_tokens()) {
    if (auto s = Range("max_output_tokens", o.max_output_tokens(), 1, 1024); !s.ok())
      return s;
    r.max_output_tokens = o.max_output_tokens();
  }
  if (o.has_min_output_tokens()) {
    if (auto s = Range("min_output_tokens", o.min_output_tokens(), 0, 1024); !s.ok())
      return s;
    r.min_output_tokens = o.min_output_tokens();
  }
  if (o.has_beam_size()) {
    if (auto s = Range("beam_size", o.beam_size(), 1, 16); !s.ok()) return s;
    r.num_beams = o.beam_size();
  }
  if (o.has_length_penalty()) {
    if (auto s = Range("length_penalty", o.length_penalty(), -10.0f, 10.0f); !s.ok())
      return s;
    r.length_penalty = o.length_penalty();
  }
  if (o.has_no_repeat_ngram_size()) {
    if (auto s = Range("no_repeat_ngram_size", o.no_repeat_ngram_size(), 0, 16); !s.ok())
      return s;
    r.no_repeat_ngram_size = o.no_repeat_ngram_size();
  }
  if (o.has_no_adjacent_repeat_ngram_size()) {
    if (auto s = Range("no_adjacent_repeat_ngram_size", o.no_adjacent_repeat_ngram_size(),
                       0, 16);
        !s.ok())
      return s;
    r.no_adjacent_repeat_ngram_size = o.no_adjacent_repeat_ngram_size();
  }
  if (o.has_repetition_penalty()) {
    if (auto s = Range("repetition_penalty", o.repetition_penalty(), 0.01f, 10.0f);
        !s.ok())
      return s;
    r.repetition_penalty = o.repetition_penalty();
  }
  if (o.has_encoder_repetition_penalty()) {
    if (auto s = Range("encoder_repetition_penalty", o.encoder_repetition_penalty(),
                       0.01f, 10.0f);
        !s.ok())
      return s;
    r.encoder_repetition_penalty = o.encoder_repetition_penalty();
  }
  if (o.has_num_return_sequences()) {
    if (auto s = Range("num_return_sequences", o.num_return_sequences(), 1, 16); !s.ok())
      return s;
    r.num_return_sequences = o.num_return_sequences();
  }
  if (o.has_sampling()) {
    const heed::v1::SamplingOptions& s = o.sampling();
    generation::SamplingOptions sampling;
    if (s.has_temperature()) {
      // Below 1e-6 the logits divided by it overflow float (1e-45 turned them
      // into infinities and the output empty); greedy search is the limit.
      if (!(s.temperature() >= kMinTemperature && s.temperature() <= 100.0f)) {
        return pipelines::InvalidField(
            "OPTION_OUT_OF_RANGE", "options.sampling.temperature",
            absl::StrCat("options.sampling.temperature must be between ", kMinTemperature,
                         " and 100, got ", s.temperature()));
      }
      sampling.temperature = s.temperature();
    }
    if (auto st = Range("sampling.top_k", s.top_k(), 0, 1000); !st.ok()) return st;
    sampling.top_k = s.top_k();
    if (s.has_top_p()) {
      if (!(s.top_p() > 0.0f && s.top_p() <= 1.0f)) {
        return pipelines::InvalidField(
            "OPTION_OUT_OF_RANGE", "options.sampling.top_p",
            absl::StrCat("options.sampling.top_p must be in (0, 1], got ", s.top_p()));
      }
      sampling.top_p = s.top_p();
    }
    sampling.seed = s.has_seed() ? s.seed() : std::random_device{}();
    *seed = sampling.seed;
    if (r.num_beams.value_or(1) > 1) {
      return pipelines::InvalidField(
          "OPTIONS_CONFLICT", "options.sampling",
          "options.sampling cannot be combined with beam_size > 1");
    }
    r.sampling = sampling;
  } else if (r.num_return_sequences > r.num_beams.value_or(1) &&
             r.num_beams.has_value()) {
    return pipelines::InvalidField(
        "OPTIONS_CONFLICT", "options.num_return_sequences",
        absl::StrCat("options.num_return_sequences (", r.num_return_sequences,
                     ") cannot exceed options.beam_size (", *r.num_beams, ")"));
  }
  return r;
}

absl::StatusOr<pipelines::LongInput> LongInputOf(
    const heed::v1::ClassifySentimentRequest& request,
    pipelines::LongInput model_default) {
  switch (request.long_input()) {
    case heed::v1::LONG_INPUT_UNSPECIFIED:
      return request.truncate_input() ? pipelines::LongInput::kTruncate : model_default;
    case heed::v1::LONG_INPUT_ERROR:
      return pipelines::LongInput::kError;
    case heed::v1::LONG_INPUT_TRUNCATE:
      return pipelines::LongInput::kTruncate;
    case heed::v1::LONG_INPUT_CHUNKS:
      return pipelines::LongInput::kChunks;
    default:
      return pipelines::InvalidField(
          "UNKNOWN_ENUM_VALUE", "long_input",
          absl::StrCat("long_input: unknown value ", request.long_input()));
  }
}

int PriorityRank(heed::v1::Priority priority) {
  switch (priority) {
    case heed::v1::PRIORITY_LOW:
      return 0;
    case heed::v1::PRIORITY_HIGH:
      return 2;
    default:
      return 1;
  }
}

}  // namespace heed::server
