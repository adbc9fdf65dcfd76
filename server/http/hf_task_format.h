// The Hugging Face Inference task formats, so that clients written for the
// Hugging Face Inference API (huggingface_hub's InferenceClient, plain
// requests) work against heed unchanged:
//   request   {"inputs": "text" | ["text", ...], "parameters": {...}}
//   translation     [{"translation_text": "..."}]        one per input
//   summarization   [{"summary_text": "..."}]            one per input
//   classification  [[{"label": "...", "score": 0.9}, ...]]  one list per
//                   input, labels by descending score
// Parameters with a null value count as absent (clients send them so); an
// unknown parameter is INVALID_ARGUMENT naming it, never ignored.
#ifndef HEED_SERVER_HTTP_HF_TASK_FORMAT_H_
#define HEED_SERVER_HTTP_HF_TASK_FORMAT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "heed/v1/inference.pb.h"
#include "nlohmann/json.hpp"

namespace heed::server {

struct HfRequest {
  // One text, or the list's texts; either way the answer is a list with one
  // result per text.
  std::vector<std::string> inputs;
  nlohmann::json parameters = nlohmann::json::object();  // nulls removed
};
absl::StatusOr<HfRequest> ParseHfRequest(absl::string_view body);

// Translation and summarization: max_new_tokens, min_new_tokens, num_beams,
// length_penalty, no_repeat_ngram_size, no_adjacent_repeat_ngram_size (heed's),
// repetition_penalty, encoder_repetition_penalty, do_sample, temperature, top_k, top_p,
// seed, truncation; also inside "generate_parameters" (where InferenceClient puts them).
// clean_up_tokenization_spaces is accepted (heed's text is already clean);
// src_lang and tgt_lang are refused (a model translates one pair).
absl::Status ApplyGenerationParameters(const nlohmann::json& parameters,
                                       heed::v1::GenerationOptions* options,
                                       bool* truncate_input);

// Text classification: top_k (labels returned; default all), truncation,
// function_to_apply ("softmax" only: the scores are probabilities).
absl::Status ApplyClassificationParameters(const nlohmann::json& parameters, int* top_k,
                                           bool* truncate_input);

nlohmann::json TranslationOutput(const std::string& text);
nlohmann::json SummaryOutput(const std::string& text);
nlohmann::json ClassificationOutput(const heed::v1::SentimentResult& result, int top_k);

}  // namespace heed::server

#endif  // HEED_SERVER_HTTP_HF_TASK_FORMAT_H_
