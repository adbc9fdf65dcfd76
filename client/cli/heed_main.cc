// heed: the command-line client of heed-server.
//
//   heed [flags] COMMAND [ARGS]     (heed COMMAND --help for each command)
//
// Errors print the gRPC status code and message and exit non-zero.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "client/cli/explain.h"
#include "client/lib/heed_client.h"
#include "client/lib/program_usage.h"
#include "google/protobuf/util/json_util.h"

ABSL_FLAG(std::string, address, "127.0.0.1:50051", "heed-server's host:port.");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(30), "Deadline of each call.");
ABSL_FLAG(bool, json, false, "Print machine-readable JSON, one object per line.");
ABSL_FLAG(std::string, model, "", "Model name; empty: the task's default model.");
ABSL_FLAG(std::string, task, "translation",
          "tokenize: whose default model splits the text when --model is empty.");
ABSL_FLAG(int, beam, 0, "Beam size (0: the model's default; 1: greedy).");
ABSL_FLAG(int, max_tokens, 0, "Most tokens to generate (0: the model's default).");
ABSL_FLAG(float, temperature, 0, "Sample with this temperature instead of searching.");
ABSL_FLAG(int, top_k, 0, "Sampling: keep the k most likely tokens (0: all).");
ABSL_FLAG(float, top_p, 1, "Sampling: nucleus probability.");
ABSL_FLAG(int64_t, seed, -1, "Sampling seed (-1: the server picks one and reports it).");
ABSL_FLAG(bool, stream, false, "Print generated text as it arrives.");
ABSL_FLAG(bool, explain, false,
          "Show what the model attended to: the source/target alignment grid, or "
          "per-token attributions for sentiment.");
ABSL_FLAG(bool, truncate, false,
          "Cut inputs longer than the model accepts instead of failing.");
ABSL_FLAG(bool, chunks, false,
          "Sentiment: classify texts longer than the model accepts in overlapping "
          "windows and average them (long_input CHUNKS).");
ABSL_FLAG(bool, tls, false, "Connect with TLS (system roots unless --tls_ca).");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA bundle that signed the server's certificate.");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate (mutual TLS).");
ABSL_FLAG(std::string, tls_key, "", "PEM client key (mutual TLS).");
ABSL_FLAG(std::string, token, "", "Bearer token (default: $HEED_TOKEN).");

namespace {

constexpr char kUsage[] = R"(heed: call a heed-server.

Usage: heed [flags] COMMAND [ARGS]

Commands:
  translate [TEXT...]  Translate each TEXT (or each line of stdin).
  summarize [TEXT...]  Summarize each TEXT (or each line of stdin).
  sentiment [TEXT...]  Classify the sentiment of the TEXTs (or stdin lines), in one call.
  models [NAME]        List the loaded models, or describe one.
  info                 The server's version, instruction set, compute types and limits.
  tokenize TEXT        The tokens a model makes of TEXT (--model, or --task's default).
  health [SERVICE]     Ask grpc.health.v1 whether the server (or SERVICE) is serving;
                       exit 0 only when SERVING.

Common flags: --address=HOST:PORT --deadline=30s --json --tls --tls_ca=FILE
  --tls_cert=FILE --tls_key=FILE --token=TOKEN (or $HEED_TOKEN)
Generation flags: --model --beam --max-tokens --temperature --top-k --top-p --seed
  --stream --explain --truncate
Exit codes: 0 success, 1 the call failed (code and message on stderr), 2 usage,
  3 health is not SERVING.
)";

constexpr char kTranslateHelp[] = R"(heed translate [flags] [TEXT...]

Translates each TEXT, or each line of stdin when there is none, with the
server's default translation model or --model. Prints one translation per line
(--json: the whole response). --stream prints text as it is generated;
--explain prints the source/target alignment grid after each translation.
Flags: --model --beam --max-tokens --temperature --top-k --top-p --seed --stream
--explain --truncate --json --deadline --address
)";
constexpr char kSummarizeHelp[] = R"(heed summarize [flags] [TEXT...]

Summarizes each TEXT, or each line of stdin, with the default summarization
model or --model. Same flags as translate.
)";
constexpr char kSentimentHelp[] = R"(heed sentiment [flags] [TEXT...]

Classifies TEXTs (or stdin lines) in one call. Prints "LABEL SCORE TEXT" per
text; --explain adds each token's attribution; --json the whole response.
Flags: --model --explain --truncate --chunks --json --deadline --address
)";
constexpr char kModelsHelp[] =
    "heed models [NAME]\n\nLists the loaded models, or describes NAME.\n";
constexpr char kTokenizeHelp[] =
    "heed tokenize [--model=NAME | --task=TASK] TEXT\n\nPrints the tokens the model "
    "makes "
    "of TEXT, one \"ID PIECE BEGIN END\" line each\n(special tokens have BEGIN == END), "
    "then "
    "the count and the model's limit.\nWithout --model: the default model of --task "
    "(translation, summarization\nor sentiment; default translation). --json: the whole "
    "response.\n";
constexpr char kInfoHelp[] =
    "heed info\n\nPrints the server's version, git revision, instruction-set level,\n"
    "compute types as they run there, and the limits every request meets\n"
    "(--json: the whole ServerInfo).\n";
constexpr char kHealthHelp[] =
    "heed health [SERVICE]\n\nChecks grpc.health.v1 for the server or SERVICE "
    "(e.g. heed.v1.Inference/translation); exit 0 only when SERVING.\n";

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "heed: %s\n", heed::client::DescribeError(status).c_str());
  return 1;
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

std::vector<std::string> InputsOrStdin(const std::vector<std::string>& args) {
  if (!args.empty()) return args;
  std::vector<std::string> lines;
  for (std::string line; std::getline(std::cin, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

heed::v1::GenerationOptions GenerationOptionsFromFlags() {
  heed::v1::GenerationOptions o;
  if (absl::GetFlag(FLAGS_beam) > 0) o.set_beam_size(absl::GetFlag(FLAGS_beam));
  if (absl::GetFlag(FLAGS_max_tokens) > 0)
    o.set_max_output_tokens(absl::GetFlag(FLAGS_max_tokens));
  if (absl::GetFlag(FLAGS_temperature) > 0) {
    heed::v1::SamplingOptions* s = o.mutable_sampling();
    s->set_temperature(absl::GetFlag(FLAGS_temperature));
    s->set_top_k(absl::GetFlag(FLAGS_top_k));
    s->set_top_p(absl::GetFlag(FLAGS_top_p));
    if (absl::GetFlag(FLAGS_seed) >= 0) s->set_seed(absl::GetFlag(FLAGS_seed));
  }
  return o;
}

// translate and summarize: same request shape, same output.
template <typename Request, typename Response>
int RunGenerate(
    heed::client::HeedClient& client, const std::vector<std::string>& args,
    absl::StatusOr<Response> (heed::client::HeedClient::*unary)(const Request&),
    absl::StatusOr<Response> (heed::client::HeedClient::*stream)(
        const Request&, const std::function<void(const heed::v1::TextDelta&)>&)) {
  const std::vector<std::string> texts = InputsOrStdin(args);
  if (texts.empty()) {
    std::fprintf(stderr, "heed: no text given (arguments or stdin)\n");
    return 2;
  }
  const bool json = absl::GetFlag(FLAGS_json), streaming = absl::GetFlag(FLAGS_stream);
  const bool explain = absl::GetFlag(FLAGS_explain);
  for (const std::string& text : texts) {
    Request request;
    request.set_text(text);
    request.set_model(absl::GetFlag(FLAGS_model));
    *request.mutable_options() = GenerationOptionsFromFlags();
    request.set_return_alignment(explain);
    request.set_truncate_input(absl::GetFlag(FLAGS_truncate));
    absl::StatusOr<Response> response =
        streaming ? (client.*stream)(request,
                                     [json](const heed::v1::TextDelta& delta) {
                                       if (json) {
                                         std::printf("%s\n", ToJson(delta).c_str());
                                       } else {
                                         std::printf("%s", delta.text().c_str());
                                       }
                                       std::fflush(stdout);
                                     })
                  : (client.*unary)(request);
    if (!response.ok()) return Fail(response.status());
    if (json) {
      std::printf("%s\n", ToJson(*response).c_str());
    } else {
      if (!streaming) std::printf("%s", response->text().c_str());
      std::printf("\n");
    }
    if (explain && !json && response->hypotheses_size() > 0) {
      std::printf(
          "%s", heed::cli::RenderAlignment(response->hypotheses(0).alignment()).c_str());
    }
  }
  return 0;
}

int RunSentiment(heed::client::HeedClient& client, const std::vector<std::string>& args) {
  const std::vector<std::string> texts = InputsOrStdin(args);
  if (texts.empty()) {
    std::fprintf(stderr, "heed: no text given (arguments or stdin)\n");
    return 2;
  }
  heed::v1::ClassifySentimentRequest request;
  for (const std::string& text : texts) request.add_texts(text);
  request.set_model(absl::GetFlag(FLAGS_model));
  request.set_return_alignment(absl::GetFlag(FLAGS_explain));
  request.set_truncate_input(absl::GetFlag(FLAGS_truncate));
  if (absl::GetFlag(FLAGS_chunks)) request.set_long_input(heed::v1::LONG_INPUT_CHUNKS);
  auto response = client.ClassifySentiment(request);
  if (!response.ok()) return Fail(response.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", ToJson(*response).c_str());
    return 0;
  }
  for (int i = 0; i < response->results_size(); ++i) {
    const auto& r = response->results(i);
    std::printf("%-10s %.3f  %s\n", r.label().c_str(), r.score(), texts[i].c_str());
    if (absl::GetFlag(FLAGS_explain))
      std::printf("%s", heed::cli::RenderAttributions(r).c_str());
  }
  return 0;
}

int RunHealth(heed::client::HeedClient& client, const std::vector<std::string>& args) {
  const std::string service = args.empty() ? "" : args[0];
  absl::StatusOr<std::string> status = client.CheckHealth(service);
  if (!status.ok()) return Fail(status.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("{\"service\":\"%s\",\"status\":\"%s\"}\n", service.c_str(),
                status->c_str());
  } else {
    std::printf("%s\n", status->c_str());
  }
  return *status == "SERVING" ? 0 : 3;
}

void PrintModel(const heed::v1::Model& model) {
  std::printf("%-24s %-20s %-40s %-22s %-8s max_input=%d isa=%s%s\n",
              model.name().c_str(), heed::v1::Task_Name(model.task()).c_str(),
              model.architecture().c_str(),
              heed::v1::ComputeType_Name(model.compute_type()).c_str(),
              model.ready() ? "ready" : "loading", model.max_input_tokens(),
              model.isa().c_str(), model.is_default() ? " (default)" : "");
  if (!model.compute_type_native()) {
    std::printf("%-24s %s\n", "", model.compute_detail().c_str());
  }
}

int RunModels(heed::client::HeedClient& client, const std::vector<std::string>& args) {
  const bool json = absl::GetFlag(FLAGS_json);
  if (!args.empty()) {
    absl::StatusOr<heed::v1::Model> model = client.GetModel(args[0]);
    if (!model.ok()) return Fail(model.status());
    if (json) {
      std::printf("%s\n", ToJson(*model).c_str());
    } else {
      PrintModel(*model);
    }
    return 0;
  }
  absl::StatusOr<std::vector<heed::v1::Model>> models = client.ListModels();
  if (!models.ok()) return Fail(models.status());
  if (json) {
    heed::v1::ListModelsResponse response;
    for (const auto& model : *models) *response.add_models() = model;
    std::printf("%s\n", ToJson(response).c_str());
  } else if (models->empty()) {
    std::printf("no models loaded\n");
  } else {
    for (const auto& model : *models) PrintModel(model);
  }
  return 0;
}

int RunTokenize(heed::client::HeedClient& client, const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::fputs(kTokenizeHelp, stderr);
    return 2;
  }
  heed::v1::TokenizeRequest request;
  request.set_text(args[0]);
  request.set_model(absl::GetFlag(FLAGS_model));
  const std::string task = absl::GetFlag(FLAGS_task);
  if (task == "translation") {
    request.set_task(heed::v1::TASK_TRANSLATION);
  } else if (task == "summarization") {
    request.set_task(heed::v1::TASK_SUMMARIZATION);
  } else if (task == "sentiment") {
    request.set_task(heed::v1::TASK_SENTIMENT);
  } else {
    std::fprintf(stderr,
                 "heed: --task must be translation, summarization or sentiment\n");
    return 2;
  }
  absl::StatusOr<heed::v1::TokenizeResponse> response = client.Tokenize(request);
  if (!response.ok()) return Fail(response.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", ToJson(*response).c_str());
    return 0;
  }
  for (const heed::v1::Token& token : response->tokens()) {
    std::printf("%d\t%s\t%d\t%d\n", token.id(), token.piece().c_str(), token.begin(),
                token.end());
  }
  std::printf("%d tokens; %s accepts %d\n", response->tokens_size(),
              response->model().name().c_str(), response->max_input_tokens());
  return 0;
}

int RunInfo(heed::client::HeedClient& client) {
  absl::StatusOr<heed::v1::ServerInfo> info = client.GetServerInfo();
  if (!info.ok()) return Fail(info.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", ToJson(*info).c_str());
    return 0;
  }
  std::printf("version          %s (git %s)\n", info->version().c_str(),
              info->git_revision().c_str());
  std::printf("isa              %s (this CPU's best: %s), %d compute threads\n",
              info->isa().c_str(), info->cpu_best_isa().c_str(), info->compute_threads());
  std::printf("oneDNN, gRPC     %s, %s\n", info->onednn_version().c_str(),
              info->grpc_version().c_str());
  for (const heed::v1::ComputeTypeSupport& type : info->compute_types()) {
    std::printf("compute type     %-22s %s\n",
                heed::v1::ComputeType_Name(type.compute_type()).c_str(),
                type.detail().c_str());
  }
  const heed::v1::ServerLimits& limits = info->limits();
  std::printf("texts per call   %d, %lld bytes each, %lld bytes per message\n",
              limits.max_texts_per_request(),
              static_cast<long long>(limits.max_text_bytes()),
              static_cast<long long>(limits.max_message_bytes()));
  std::printf("request cost     %lld\n",
              static_cast<long long>(limits.max_request_cost()));
  std::printf("queue per model  %d requests, %.3f s of work\n", limits.max_queue_size(),
              limits.max_queue_wait().seconds() + limits.max_queue_wait().nanos() * 1e-9);
  std::printf("authentication   %s\n",
              info->authentication_required() ? "required" : "none");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Accept --max-tokens as well as --max_tokens (absl flags use underscores),
  // and give each command its own --help.
  std::vector<std::string> storage(argv, argv + argc);
  std::string command_for_help;
  for (size_t i = 1; i < storage.size(); ++i) {
    std::string& arg = storage[i];
    if (arg == "--help" || arg == "-h") {
      for (size_t j = 1; j < storage.size(); ++j) {
        if (storage[j][0] != '-') {
          command_for_help = storage[j];
          break;
        }
      }
      const char* help = command_for_help == "translate"   ? kTranslateHelp
                         : command_for_help == "summarize" ? kSummarizeHelp
                         : command_for_help == "sentiment" ? kSentimentHelp
                         : command_for_help == "models"    ? kModelsHelp
                         : command_for_help == "health"    ? kHealthHelp
                         : command_for_help == "info"      ? kInfoHelp
                         : command_for_help == "tokenize"  ? kTokenizeHelp
                                                           : kUsage;
      std::fputs(help, stdout);
      return 0;
    }
    if (arg.rfind("--", 0) == 0) {
      const size_t eq = arg.find('=');
      std::string name =
          arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      arg = "--" + absl::StrReplaceAll(name, {{"-", "_"}}) +
            (eq == std::string::npos ? "" : arg.substr(eq));
    }
  }
  std::vector<char*> patched;
  for (std::string& s : storage) patched.push_back(s.data());
  absl::SetProgramUsageMessage(kUsage);
  heed::client::InstallProgramUsage("heed");
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(patched.size()), patched.data());
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string command = args[0];
  args.erase(args.begin());

  heed::client::ClientOptions options;
  options.address = absl::GetFlag(FLAGS_address);
  options.deadline = absl::GetFlag(FLAGS_deadline);
  options.tls = absl::GetFlag(FLAGS_tls);
  options.tls_ca_file = absl::GetFlag(FLAGS_tls_ca);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.token = absl::GetFlag(FLAGS_token);
  if (options.token.empty() && std::getenv("HEED_TOKEN") != nullptr) {
    options.token = std::getenv("HEED_TOKEN");
  }
  auto client = heed::client::HeedClient::Create(options);
  if (!client.ok()) return Fail(client.status());

  using heed::client::HeedClient;
  if (command == "translate") {
    return RunGenerate(**client, args, &HeedClient::Translate,
                       &HeedClient::TranslateStream);
  }
  if (command == "summarize") {
    return RunGenerate(**client, args, &HeedClient::Summarize,
                       &HeedClient::SummarizeStream);
  }
  if (command == "sentiment") return RunSentiment(**client, args);
  if (command == "health") return RunHealth(**client, args);
  if (command == "models") return RunModels(**client, args);
  if (command == "info") return RunInfo(**client);
  if (command == "tokenize") return RunTokenize(**client, args);
  std::fprintf(stderr, "heed: unknown command \"%s\"\n\n%s", command.c_str(), kUsage);
  return 2;
}
