// heed-bench-models: end-to-end throughput of a model directory on token ids
// from a file, for tools/bench_vs_torch.py (which runs PyTorch on the same
// weights and inputs and prints the ratio). Prints one JSON object.
//
//   translation: --task=generate --batch=N --beams=K --new_tokens=T
//       target tokens per second; EOS is forbidden so that every sequence
//       produces exactly T tokens on both sides of the comparison.
//   classification: --task=classify --batch=N   sequences per second
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "core/cpu/cpu_features.h"
#include "core/cpu/threading.h"
#include "core/generation/search.h"
#include "core/io/model_config.h"
#include "core/models/encoder_classifier.h"
#include "core/models/seq2seq_model.h"
#include "core/models/weights.h"
#include "core/ops/linear.h"
#include "core/pipelines/text_tokenizer.h"

ABSL_FLAG(std::string, model_dir, "", "Hugging Face model directory.");
ABSL_FLAG(std::string, inputs, "",
          "File with one input per line: space-separated token ids.");
ABSL_FLAG(std::string, texts, "",
          "Instead of --inputs: a file with one text per line, tokenized with the model "
          "directory's tokenizer as heed-server tokenizes it.");
ABSL_FLAG(std::string, task, "generate", "generate or classify.");
ABSL_FLAG(int, batch, 1, "Sequences decoded (or classified) together.");
ABSL_FLAG(int, beams, 1, "Beam size; 1 is greedy search.");
ABSL_FLAG(int, new_tokens, 30, "Tokens generated per sequence.");
ABSL_FLAG(std::string, compute_type, "float32", "float32, bfloat16 or int8.");
ABSL_FLAG(int, threads, 1, "Compute threads.");
ABSL_FLAG(
    bool, bf16_attention, true,
    "With --compute_type=bfloat16 on AVX512_BF16: decoding's KV caches and queries in "
    "bf16 (false: f32, to measure the difference); encoders always attend in f32.");
ABSL_FLAG(int, limit, 0, "Use at most this many inputs (0: all).");
ABSL_FLAG(bool, encode_together, true,
          "Encode a batch's sources in one pass (as heed-server does); false: one "
          "sequence at a time (the comparison).");

namespace {

std::vector<std::vector<int32_t>> ReadInputs(const std::string& path, int limit) {
  std::vector<std::vector<int32_t>> inputs;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream ids(line);
    inputs.emplace_back();
    for (int32_t id; ids >> id;) inputs.back().push_back(id);
    if (limit > 0 && static_cast<int>(inputs.size()) >= limit) break;
  }
  return inputs;
}

// "input_lengths": the token count of each input, for FLOP accounting.
std::string LengthsJson(const std::vector<std::vector<int32_t>>& inputs) {
  std::string out = "\"input_lengths\": [";
  for (size_t i = 0; i < inputs.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(inputs[i].size());
  }
  return out + "]";
}

// Resident and peak resident memory of this process in MB (VmRSS, VmHWM).
std::string MemoryJson() {
  std::ifstream status("/proc/self/status");
  double rss = 0, peak = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::atof(line.c_str() + 6) / 1024;
    if (line.rfind("VmHWM:", 0) == 0) peak = std::atof(line.c_str() + 6) / 1024;
  }
  char out[96];
  std::snprintf(out, sizeof(out), "\"rss_mb\": %.1f, \"peak_rss_mb\": %.1f", rss, peak);
  return out;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "heed-bench-models: %s\n", status.ToString().c_str());
  return 1;
}

absl::StatusOr<std::vector<std::vector<int32_t>>> TokenizeTexts(
    const std::string& model_dir, const std::string& path, int limit) {
  auto config = heed::io::ReadModelConfig(model_dir);
  if (!config.ok()) return config.status();
  auto tokenizer = heed::pipelines::LoadTokenizer(model_dir, *config);
  if (!tokenizer.ok()) return tokenizer.status();
  std::vector<std::vector<int32_t>> inputs;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    inputs.emplace_back();
    for (const auto& token : (*tokenizer)->Encode(line))
      inputs.back().push_back(token.id);
    if (limit > 0 && static_cast<int>(inputs.size()) >= limit) break;
  }
  return inputs;
}

// "isa" (the ISA level, HEED_ISA) and "runs_as" (what the compute type runs
// as there) as JSON members.
std::string LevelJson(heed::ops::ComputeType type) {
  const heed::ops::ComputeTypeChoice choice = heed::ops::ChooseComputeType(type);
  return "\"isa\": \"" + std::string(heed::cpu::IsaName(heed::cpu::IsaCeiling())) +
         "\", \"runs_as\": \"" + std::string(heed::ops::ComputeTypeName(choice.used)) +
         "\"";
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  heed::cpu::SetComputeThreads(absl::GetFlag(FLAGS_threads));
  heed::models::EnableBf16Attention(absl::GetFlag(FLAGS_bf16_attention));
  auto type = heed::ops::ParseComputeType(absl::GetFlag(FLAGS_compute_type));
  if (!type.ok()) return Fail(type.status());
  std::vector<std::vector<int32_t>> inputs;
  if (!absl::GetFlag(FLAGS_texts).empty()) {
    auto tokenized =
        TokenizeTexts(absl::GetFlag(FLAGS_model_dir), absl::GetFlag(FLAGS_texts),
                      absl::GetFlag(FLAGS_limit));
    if (!tokenized.ok()) return Fail(tokenized.status());
    inputs = std::move(*tokenized);
  } else {
    inputs = ReadInputs(absl::GetFlag(FLAGS_inputs), absl::GetFlag(FLAGS_limit));
  }
  if (inputs.empty()) return Fail(absl::InvalidArgumentError("no inputs"));
  const int batch = absl::GetFlag(FLAGS_batch);
  using Clock = std::chrono::steady_clock;

  if (absl::GetFlag(FLAGS_task) == "classify") {
    auto model =
        heed::models::EncoderClassifier::Load(absl::GetFlag(FLAGS_model_dir), *type);
    if (!model.ok()) return Fail(model.status());
    const std::string loaded = MemoryJson();
    (void)(*model)->Classify({inputs[0]});  // warm-up: primitives, pages
    const auto start = Clock::now();
    for (size_t i = 0; i < inputs.size(); i += batch) {
      std::vector<std::vector<int32_t>> chunk(
          inputs.begin() + i, inputs.begin() + std::min(inputs.size(), i + batch));
      auto logits = (*model)->Classify(chunk);
      if (!logits.ok()) return Fail(logits.status());
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf(
        "{\"sequences\": %zu, \"seconds\": %.4f, \"per_s\": %.3f, %s, "
        "\"after_load\": {%s}, %s, %s}\n",
        inputs.size(), seconds, inputs.size() / seconds, LevelJson(*type).c_str(),
        loaded.c_str(), MemoryJson().c_str(), LengthsJson(inputs).c_str());
    return 0;
  }

  auto model = heed::models::Seq2SeqModel::Load(absl::GetFlag(FLAGS_model_dir), *type);
  if (!model.ok()) return Fail(model.status());
  const std::string loaded = MemoryJson();
  const int new_tokens = absl::GetFlag(FLAGS_new_tokens);
  heed::generation::GenerationParams params;
  params.decoder_start_token_id = (*model)->config().decoder_start_token_id;
  params.eos_token_id = (*model)->config().eos_token_id;
  params.max_length = new_tokens + 1;
  params.min_length = new_tokens + 1;  // no EOS: fixed work per sequence
  heed::generation::SearchOptions options;
  options.num_beams = absl::GetFlag(FLAGS_beams);
  // Where the time goes: encoding, the model's decoding steps, the searches'
  // own work, and within it the beams' key/value cache copies.
  double encode_seconds = 0, kv_copy_seconds = 0;
  heed::generation::StepProfile profile;
  auto run = [&](size_t begin, size_t end, int64_t* tokens) -> absl::Status {
    std::vector<std::unique_ptr<heed::generation::Search>> searches;
    std::vector<heed::generation::Search*> active;
    const auto encode_start = Clock::now();
    // One encoder pass over the batch's sources, as heed-server encodes the
    // requests that join a step.
    std::vector<std::shared_ptr<const heed::models::EncoderOutput>> encoders;
    if (absl::GetFlag(FLAGS_encode_together)) {
      std::vector<std::span<const int32_t>> sources(inputs.begin() + begin,
                                                    inputs.begin() + end);
      auto together = (*model)->EncodeBatch(sources);
      if (!together.ok()) return together.status();
      encoders = *std::move(together);
    } else {
      for (size_t i = begin; i < end; ++i) {
        auto alone = (*model)->Encode(inputs[i]);
        if (!alone.ok()) return alone.status();
        encoders.push_back(*std::move(alone));
      }
    }
    for (const auto& encoder : encoders) {
      auto search = heed::generation::StartSearch(**model, encoder, params, options);
      if (!search.ok()) return search.status();
      active.push_back(search->get());
      searches.push_back(std::move(*search));
    }
    encode_seconds += std::chrono::duration<double>(Clock::now() - encode_start).count();
    if (absl::Status s = heed::generation::RunToEnd(**model, active, &profile); !s.ok())
      return s;
    for (auto* s : active) {
      *tokens += static_cast<int64_t>(s->Results()[0].ids.size()) - 1;
      kv_copy_seconds += s->kv_copy_seconds();
    }
    return absl::OkStatus();
  };
  int64_t warmup_tokens = 0;
  if (absl::Status s = run(0, std::min<size_t>(inputs.size(), batch), &warmup_tokens);
      !s.ok()) {
    return Fail(s);
  }
  int64_t tokens = 0;
  encode_seconds = kv_copy_seconds = 0;
  profile = {};
  const auto start = Clock::now();
  for (size_t i = 0; i < inputs.size(); i += batch) {
    if (absl::Status s = run(i, std::min(inputs.size(), i + batch), &tokens); !s.ok()) {
      return Fail(s);
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "{\"sequences\": %zu, \"tokens\": %lld, \"seconds\": %.4f, \"per_s\": %.3f, %s, "
      "\"profile\": {\"encode_s\": %.4f, \"step_model_s\": %.4f, \"step_search_s\": "
      "%.4f, "
      "\"kv_copy_s\": %.4f, \"steps\": %lld, \"rows\": %lld}, \"after_load\": {%s}, %s, "
      "%s}\n",
      inputs.size(), static_cast<long long>(tokens), seconds, tokens / seconds,
      LevelJson(*type).c_str(), encode_seconds, profile.model_seconds,
      profile.search_seconds, kv_copy_seconds, static_cast<long long>(profile.steps),
      static_cast<long long>(profile.rows), loaded.c_str(), MemoryJson().c_str(),
      LengthsJson(inputs).c_str());
  return 0;
}
