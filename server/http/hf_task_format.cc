#include "server/http/hf_task_format.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/pipelines/status_details.h"

namespace heed::server {
namespace {

using nlohmann::json;

absl::Status Invalid(absl::string_view reason, absl::string_view field,
                     absl::string_view message) {
  return pipelines::InvalidField(reason, field, message);
}

absl::Status WrongType(const std::string& field, const char* expected) {
  return Invalid("INVALID_JSON", field, absl::StrCat(field, " must be ", expected));
}

// Reads parameters[key] into *out when present, checking its JSON type.
absl::Status ReadInt(const json& p, const char* key, int* out, bool* present) {
  *present = false;
  auto it = p.find(key);
  if (it == p.end()) return absl::OkStatus();
  if (!it->is_number_integer()) {
    return WrongType(absl::StrCat("parameters.", key), "an integer");
  }
  const int64_t v = it->get<int64_t>();
  if (v < INT32_MIN || v > INT32_MAX) {
    return Invalid("OPTION_OUT_OF_RANGE", absl::StrCat("parameters.", key),
                   absl::StrCat("parameters.", key, " is out of range"));
  }
  *out = static_cast<int>(v);
  *present = true;
  return absl::OkStatus();
}

absl::Status ReadFloat(const json& p, const char* key, float* out, bool* present) {
  *present = false;
  auto it = p.find(key);
  if (it == p.end()) return absl::OkStatus();
  if (!it->is_number()) return WrongType(absl::StrCat("parameters.", key), "a number");
  *out = it->get<float>();
  *present = true;
  return absl::OkStatus();
}

absl::Status ReadBool(const json& p, const char* key, bool* out, bool* present) {
  *present = false;
  auto it = p.find(key);
  if (it == p.end()) return absl::OkStatus();
  if (!it->is_boolean())
    return WrongType(absl::StrCat("parameters.", key), "true or false");
  *out = it->get<bool>();
  *present = true;
  return absl::OkStatus();
}

// Hugging Face's truncation: a bool, or a strategy name.
absl::Status ReadTruncation(const json& p, bool* truncate) {
  auto it = p.find("truncation");
  if (it == p.end()) return absl::OkStatus();
  if (it->is_boolean()) {
    *truncate = it->get<bool>();
    return absl::OkStatus();
  }
  if (it->is_string()) {
    const std::string s = it->get<std::string>();
    if (s == "do_not_truncate") {
      *truncate = false;
      return absl::OkStatus();
    }
    if (s == "longest_first" || s == "only_first") {
      *truncate = true;
      return absl::OkStatus();
    }
  }
  return Invalid("OPTION_OUT_OF_RANGE", "parameters.truncation",
                 "parameters.truncation must be true, false, \"do_not_truncate\", "
                 "\"longest_first\" or \"only_first\"");
}

absl::Status RefuseUnknown(const json& p, std::initializer_list<const char*> known,
                           const std::string& where) {
  for (const auto& [key, value] : p.items()) {
    if (std::find_if(known.begin(), known.end(),
                     [&](const char* k) { return key == k; }) == known.end()) {
      return Invalid("UNKNOWN_FIELD", absl::StrCat(where, ".", key),
                     absl::StrCat(where, ".", key, " is not a parameter heed knows"));
    }
  }
  return absl::OkStatus();
}

json WithoutNulls(const json& object) {
  json out = json::object();
  for (const auto& [key, value] : object.items()) {
    if (!value.is_null()) out[key] = value;
  }
  return out;
}

}  // namespace

absl::StatusOr<HfRequest> ParseHfRequest(absl::string_view body) {
  json parsed =
      json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Invalid("INVALID_JSON", "", "the body is not a JSON object");
  }
  HfRequest request;
  for (const auto& [key, value] : parsed.items()) {
    if (key != "inputs" && key != "parameters" && key != "options") {
      return Invalid("UNKNOWN_FIELD", key,
                     absl::StrCat("unknown field \"", key,
                                  "\" (the body has inputs, parameters and options)"));
    }
  }
  auto inputs = parsed.find("inputs");
  if (inputs == parsed.end())
    return Invalid("EMPTY_INPUT", "inputs", "inputs is missing");
  if (inputs->is_string()) {
    request.inputs.push_back(inputs->get<std::string>());
  } else if (inputs->is_array()) {
    for (const json& item : *inputs) {
      if (!item.is_string()) return WrongType("inputs", "a string or a list of strings");
      request.inputs.push_back(item.get<std::string>());
    }
    if (request.inputs.empty()) {
      return Invalid("EMPTY_INPUT", "inputs", "inputs must hold at least one text");
    }
  } else {
    return WrongType("inputs", "a string or a list of strings");
  }
  if (auto p = parsed.find("parameters"); p != parsed.end() && !p->is_null()) {
    if (!p->is_object()) return WrongType("parameters", "an object");
    request.parameters = WithoutNulls(*p);
  }
  // "options" (use_cache, wait_for_model) is about the hosted API's caching
  // and cold starts; heed has neither, so any value is fine.
  return request;
}

absl::Status ApplyGenerationParameters(const json& parameters,
                                       heed::v1::GenerationOptions* options,
                                       bool* truncate_input) {
  json p = parameters;
  if (auto g = p.find("generate_parameters"); g != p.end()) {
    if (!g->is_object()) return WrongType("parameters.generate_parameters", "an object");
    const json generate = WithoutNulls(*g);
    p.erase("generate_parameters");
    for (const auto& [key, value] : generate.items()) {
      if (p.contains(key)) {
        return Invalid("OPTIONS_CONFLICT", absl::StrCat("parameters.", key),
                       absl::StrCat("parameters.", key,
                                    " is given twice (also in generate_parameters)"));
      }
      p[key] = value;
    }
  }
  if (auto s = RefuseUnknown(
          p,
          {"max_new_tokens", "min_new_tokens", "num_beams", "length_penalty",
           "no_repeat_ngram_size", "no_adjacent_repeat_ngram_size", "repetition_penalty",
           "encoder_repetition_penalty", "do_sample", "temperature", "top_k", "top_p",
           "seed", "truncation", "clean_up_tokenization_spaces", "src_lang", "tgt_lang"},
          "parameters");
      !s.ok()) {
    return s;
  }
  for (const char* lang : {"src_lang", "tgt_lang"}) {
    if (p.contains(lang)) {
      return Invalid("UNSUPPORTED_PARAMETER", absl::StrCat("parameters.", lang),
                     absl::StrCat("parameters.", lang,
                                  ": heed's translation models translate one fixed pair; "
                                  "choose the model instead"));
    }
  }
  int i = 0;
  float f = 0;
  bool b = false, present = false;
  if (auto s = ReadInt(p, "max_new_tokens", &i, &present); !s.ok()) return s;
  if (present) options->set_max_output_tokens(i);
  if (auto s = ReadInt(p, "min_new_tokens", &i, &present); !s.ok()) return s;
  if (present) options->set_min_output_tokens(i);
  if (auto s = ReadInt(p, "num_beams", &i, &present); !s.ok()) return s;
  if (present) options->set_beam_size(i);
  if (auto s = ReadFloat(p, "length_penalty", &f, &present); !s.ok()) return s;
  if (present) options->set_length_penalty(f);
  if (auto s = ReadInt(p, "no_repeat_ngram_size", &i, &present); !s.ok()) return s;
  if (present) options->set_no_repeat_ngram_size(i);
  if (auto s = ReadInt(p, "no_adjacent_repeat_ngram_size", &i, &present); !s.ok())
    return s;
  if (present) options->set_no_adjacent_repeat_ngram_size(i);
  if (auto s = ReadFloat(p, "repetition_penalty", &f, &present); !s.ok()) return s;
  if (present) options->set_repetition_penalty(f);
  if (auto s = ReadFloat(p, "encoder_repetition_penalty", &f, &present); !s.ok())
    return s;
  if (present) options->set_encoder_repetition_penalty(f);
  bool sample = false;
  if (auto s = ReadBool(p, "do_sample", &sample, &present); !s.ok()) return s;
  heed::v1::SamplingOptions sampling;
  bool any_sampling = false;
  if (auto s = ReadFloat(p, "temperature", &f, &present); !s.ok()) return s;
  if (present) {
    sampling.set_temperature(f);
    any_sampling = true;
  }
  if (auto s = ReadInt(p, "top_k", &i, &present); !s.ok()) return s;
  if (present) {
    sampling.set_top_k(i);
    any_sampling = true;
  }
  if (auto s = ReadFloat(p, "top_p", &f, &present); !s.ok()) return s;
  if (present) {
    sampling.set_top_p(f);
    any_sampling = true;
  }
  if (auto it = p.find("seed"); it != p.end()) {
    if (!it->is_number_unsigned() &&
        !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
      return WrongType("parameters.seed", "a non-negative integer");
    }
    sampling.set_seed(it->get<uint64_t>());
    any_sampling = true;
  }
  // As in transformers: the sampling knobs matter only with do_sample.
  if (sample) {
    *options->mutable_sampling() = sampling;
  } else if (any_sampling) {
    return Invalid("OPTIONS_CONFLICT", "parameters.do_sample",
                   "temperature, top_k, top_p and seed need parameters.do_sample = true");
  }
  if (auto s = ReadTruncation(p, truncate_input); !s.ok()) return s;
  if (auto s = ReadBool(p, "clean_up_tokenization_spaces", &b, &present); !s.ok())
    return s;
  return absl::OkStatus();
}

absl::Status ApplyClassificationParameters(const json& parameters, int* top_k,
                                           bool* truncate_input) {
  if (auto s = RefuseUnknown(parameters, {"top_k", "truncation", "function_to_apply"},
                             "parameters");
      !s.ok()) {
    return s;
  }
  bool present = false;
  if (auto s = ReadInt(parameters, "top_k", top_k, &present); !s.ok()) return s;
  if (present && *top_k < 1) {
    return Invalid("OPTION_OUT_OF_RANGE", "parameters.top_k",
                   "parameters.top_k must be at least 1");
  }
  if (auto it = parameters.find("function_to_apply"); it != parameters.end()) {
    if (!it->is_string() || it->get<std::string>() != "softmax") {
      return Invalid("UNSUPPORTED_PARAMETER", "parameters.function_to_apply",
                     "parameters.function_to_apply: heed's scores are softmax "
                     "probabilities; only \"softmax\" is accepted");
    }
  }
  return ReadTruncation(parameters, truncate_input);
}

json TranslationOutput(const std::string& text) { return {{"translation_text", text}}; }

json SummaryOutput(const std::string& text) { return {{"summary_text", text}}; }

json ClassificationOutput(const heed::v1::SentimentResult& result, int top_k) {
  std::vector<const heed::v1::LabelScore*> scores;
  for (const auto& s : result.scores()) scores.push_back(&s);
  std::stable_sort(scores.begin(), scores.end(),
                   [](const auto* a, const auto* b) { return a->score() > b->score(); });
  json out = json::array();
  for (const auto* s : scores) {
    if (top_k > 0 && static_cast<int>(out.size()) >= top_k) break;
    out.push_back({{"label", s->label()}, {"score", s->score()}});
  }
  return out;
}

}  // namespace heed::server
