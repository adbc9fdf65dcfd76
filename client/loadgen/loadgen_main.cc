// heed-loadgen: drives a heed-server with translation, summarization and
// sentiment requests and reports throughput, latency percentiles, time to
// first token (streams) and errors by status code.
//
//   closed loop: --concurrency=N callers, each sends its next request when the
//                previous one is answered;
//   open loop:   --rate=R requests per second (fixed spacing, or --poisson),
//                latency counted from the intended send time so that a slow
//                server cannot hide its queueing (no coordinated omission).
// Always bounded: --duration and/or --requests. --json prints one object.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/lib/heed_client.h"
#include "client/lib/program_usage.h"

ABSL_FLAG(std::string, address, "127.0.0.1:50051", "heed-server's host:port.");
ABSL_FLAG(int, concurrency, 8,
          "Closed loop: concurrent callers. Open loop: most in flight.");
ABSL_FLAG(double, rate, 0, "Open loop: requests per second (0: closed loop).");
ABSL_FLAG(bool, poisson, false, "Open loop: exponential gaps instead of fixed ones.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "Measured run length (0: no limit).");
ABSL_FLAG(int64_t, requests, 0,
          "Measured requests (0: no limit). Runs stop at the first bound (--in_order: "
          "also at the end of --texts).");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "Unmeasured warm-up before the run.");
ABSL_FLAG(
    std::string, mix, "translate=1",
    "Task weights, e.g. translate=2,summarize=1,sentiment=1 (health: health checks, "
    "to measure the service's own overhead).");
ABSL_FLAG(std::string, texts, "",
          "File with one input text per line (default: built-in).");
ABSL_FLAG(int, max_tokens, 16, "max_output_tokens of generation requests.");
ABSL_FLAG(int, min_tokens, 0,
          "min_output_tokens of generation requests (0: the model's); equal to "
          "--max_tokens, every request does the same work.");
ABSL_FLAG(bool, in_order, false,
          "Send each text of --texts once, in order (with --warmup=0 and no --requests "
          "or --duration bound below the file's length, the whole file is measured).");
ABSL_FLAG(int, beam, 0, "Beam size of generation requests (0: the model's default).");
ABSL_FLAG(bool, stream, false, "Use the streaming RPCs and measure time to first token.");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(30), "Deadline of each request.");
ABSL_FLAG(bool, json, false, "Print the results as one JSON object.");
ABSL_FLAG(bool, progress, true, "Print a progress line on stderr every second.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the task and text choice and of Poisson gaps.");

namespace {

const char* const kDefaultTexts[] = {
    "A dog runs across the green field.",
    "Two men are playing guitars on a small stage.",
    "The file could not be opened because the permission was denied.",
    "A woman in a red coat walks past a bakery in the rain.",
    "This package provides a library for reading compressed archives quickly.",
    "What a wonderful, moving film.",
    "The plot was dull and the acting even worse.",
    "Children are building a sandcastle on the beach.",
};

struct Sample {
  std::string task;
  double latency = 0;  // seconds
  double ttft = -1;    // seconds, streams only
  int output_tokens = 0;
  absl::StatusCode code = absl::StatusCode::kOk;
};

class Stats {
 public:
  void Add(Sample s) {
    std::lock_guard<std::mutex> lock(mu_);
    samples_.push_back(std::move(s));
  }
  std::vector<Sample> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return samples_;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return samples_.size();
  }

 private:
  std::mutex mu_;
  std::vector<Sample> samples_;
};

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(
      values.size() - 1, static_cast<size_t>(std::ceil(p / 100.0 * values.size())) - 1);
  return values[std::max<size_t>(index, 0)];
}

std::vector<std::pair<std::string, int>> ParseMix(const std::string& mix) {
  std::vector<std::pair<std::string, int>> out;
  for (absl::string_view part : absl::StrSplit(mix, ',', absl::SkipEmpty())) {
    std::vector<std::string> kv = absl::StrSplit(part, '=');
    int weight = 1;
    if (kv.size() == 2 && !absl::SimpleAtoi(kv[1], &weight)) weight = 0;
    if (kv[0] == "translate" || kv[0] == "summarize" || kv[0] == "sentiment" ||
        kv[0] == "health") {
      if (weight > 0) out.push_back({kv[0], weight});
    } else {
      std::fprintf(stderr, "heed-loadgen: unknown task \"%s\" in --mix\n", kv[0].c_str());
      std::exit(2);
    }
  }
  return out;
}

// Sends one request; returns its sample (latency measured from `intended`).
Sample Send(heed::client::HeedClient& client, const std::string& task,
            const std::string& text, absl::Time intended) {
  Sample s;
  s.task = task;
  const bool stream = absl::GetFlag(FLAGS_stream);
  heed::v1::GenerationOptions options;
  options.set_max_output_tokens(absl::GetFlag(FLAGS_max_tokens));
  if (absl::GetFlag(FLAGS_min_tokens) > 0) {
    options.set_min_output_tokens(absl::GetFlag(FLAGS_min_tokens));
  }
  if (absl::GetFlag(FLAGS_beam) > 0) options.set_beam_size(absl::GetFlag(FLAGS_beam));
  absl::Status status;
  auto on_delta = [&](const heed::v1::TextDelta&) {
    if (s.ttft < 0) s.ttft = absl::ToDoubleSeconds(absl::Now() - intended);
  };
  if (task == "health") {
    status = client.CheckHealth().status();
  } else if (task == "sentiment") {
    heed::v1::ClassifySentimentRequest r;
    r.add_texts(text);
    status = client.ClassifySentiment(r).status();
  } else if (task == "translate") {
    heed::v1::TranslateRequest r;
    r.set_text(text);
    *r.mutable_options() = options;
    auto response = stream ? client.TranslateStream(r, on_delta) : client.Translate(r);
    status = response.status();
    if (response.ok()) s.output_tokens = response->usage().output_tokens();
  } else {
    heed::v1::SummarizeRequest r;
    r.set_text(text);
    *r.mutable_options() = options;
    auto response = stream ? client.SummarizeStream(r, on_delta) : client.Summarize(r);
    status = response.status();
    if (response.ok()) s.output_tokens = response->usage().output_tokens();
  }
  s.latency = absl::ToDoubleSeconds(absl::Now() - intended);
  s.code = status.code();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Load generator for heed-server: closed-loop concurrency or open-loop rate, "
      "latency percentiles.\nUsage: heed-loadgen --address=HOST:PORT [--flags]");
  heed::client::InstallProgramUsage("heed-loadgen");
  absl::ParseCommandLine(argc, argv);
  const auto mix = ParseMix(absl::GetFlag(FLAGS_mix));
  if (mix.empty()) {
    std::fprintf(stderr, "heed-loadgen: --mix has no task\n");
    return 2;
  }
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  const int64_t max_requests = absl::GetFlag(FLAGS_requests);
  if (duration <= absl::ZeroDuration() && max_requests <= 0 &&
      !(absl::GetFlag(FLAGS_in_order) && !absl::GetFlag(FLAGS_texts).empty())) {
    std::fprintf(stderr,
                 "heed-loadgen: give --duration, --requests or --in_order with --texts: "
                 "runs are always bounded\n");
    return 2;
  }
  std::vector<std::string> texts(std::begin(kDefaultTexts), std::end(kDefaultTexts));
  if (const std::string path = absl::GetFlag(FLAGS_texts); !path.empty()) {
    texts.clear();
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) texts.push_back(line);
    }
    if (texts.empty()) {
      std::fprintf(stderr, "heed-loadgen: %s has no text\n", path.c_str());
      return 2;
    }
  }
  heed::client::ClientOptions options;
  options.address = absl::GetFlag(FLAGS_address);
  options.deadline = absl::GetFlag(FLAGS_deadline);
  options.max_attempts = 1;  // measure the server, not the retries
  const int concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  // Several channels: one HTTP/2 connection would serialize on one socket.
  std::vector<std::unique_ptr<heed::client::HeedClient>> clients;
  for (int i = 0; i < std::min(concurrency, 8); ++i) {
    clients.push_back(std::make_unique<heed::client::HeedClient>(options));
  }
  int total_weight = 0;
  for (const auto& [task, weight] : mix) total_weight += weight;

  Stats stats;
  std::atomic<int64_t> issued{0};
  const absl::Time warm_end = absl::Now() + absl::GetFlag(FLAGS_warmup);
  const absl::Time end =
      duration > absl::ZeroDuration() ? warm_end + duration : absl::InfiniteFuture();
  const bool in_order = absl::GetFlag(FLAGS_in_order);
  std::atomic<size_t> next_text{0};
  // False once --in_order has handed out every text.
  auto pick = [&](std::mt19937_64& rng, std::string* task, std::string* text) {
    int r = static_cast<int>(rng() % total_weight);
    for (const auto& [name, weight] : mix) {
      if ((r -= weight) < 0) {
        *task = name;
        break;
      }
    }
    if (!in_order) {
      *text = texts[rng() % texts.size()];
      return true;
    }
    const size_t i = next_text++;
    if (i >= texts.size()) return false;
    *text = texts[i];
    return true;
  };
  auto measured = [&](absl::Time t) { return t >= warm_end; };
  auto more = [&] {
    return absl::Now() < end && (max_requests <= 0 || issued.load() < max_requests) &&
           (!in_order || next_text.load() < texts.size());
  };

  std::atomic<bool> done{false};
  std::thread progress([&] {
    while (!done && absl::GetFlag(FLAGS_progress) && !absl::GetFlag(FLAGS_json)) {
      absl::SleepFor(absl::Seconds(1));
      std::fprintf(stderr, "\r%zu requests measured", stats.size());
    }
  });

  const double rate = absl::GetFlag(FLAGS_rate);
  // Open-loop state; it outlives the workers, which are joined below.
  std::mutex mu;
  std::vector<absl::Time> due;
  size_t next = 0;
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  std::exponential_distribution<double> gap(rate > 0 ? rate : 1.0);
  absl::Time t = absl::Now();
  std::vector<std::thread> workers;
  if (rate <= 0) {
    for (int w = 0; w < concurrency; ++w) {
      workers.emplace_back([&, w] {
        std::mt19937_64 rng(absl::GetFlag(FLAGS_seed) + w);
        std::string task, text;
        while (more()) {
          if (!pick(rng, &task, &text)) break;
          const absl::Time start = absl::Now();
          const bool counted = measured(start);
          if (counted) ++issued;
          Sample s = Send(*clients[w % clients.size()], task, text, start);
          if (counted) stats.Add(std::move(s));
        }
      });
    }
  } else {
    // Open loop: intended send times are handed out in order; a pool of
    // callers sends each at its time.
    for (int w = 0; w < concurrency; ++w) {
      workers.emplace_back([&, w] {
        std::mt19937_64 local(absl::GetFlag(FLAGS_seed) + 1000 + w);
        std::string task, text;
        while (true) {
          absl::Time when;
          {
            std::lock_guard<std::mutex> lock(mu);
            if (!more()) return;
            if (next == due.size()) {
              t += absl::Seconds(absl::GetFlag(FLAGS_poisson) ? gap(rng) : 1.0 / rate);
              due.push_back(t);
            }
            when = due[next++];
            if (measured(when)) ++issued;
          }
          absl::SleepFor(when - absl::Now());
          if (when >= end) return;
          if (!pick(local, &task, &text)) return;
          Sample s = Send(*clients[w % clients.size()], task, text, when);
          if (measured(when)) stats.Add(std::move(s));
        }
      });
    }
  }
  for (auto& worker : workers) worker.join();
  done = true;
  progress.join();
  const double seconds = absl::ToDoubleSeconds(std::min(absl::Now(), end) - warm_end);

  const std::vector<Sample> samples = stats.Take();
  std::vector<double> latencies, ttfts, tpots;
  std::map<std::string, int> codes;
  int ok = 0;
  int64_t output_tokens = 0;
  for (const Sample& s : samples) {
    codes[std::string(absl::StatusCodeToString(s.code))]++;
    if (s.code == absl::StatusCode::kOk) {
      ++ok;
      latencies.push_back(s.latency);
      output_tokens += s.output_tokens;
      if (s.ttft >= 0) ttfts.push_back(s.ttft);
      // Time per output token after the first (streams).
      if (s.ttft >= 0 && s.output_tokens > 1) {
        tpots.push_back((s.latency - s.ttft) / (s.output_tokens - 1));
      }
    }
  }
  std::string code_json;
  for (const auto& [code, count] : codes) {
    absl::StrAppend(&code_json, code_json.empty() ? "" : ", ", "\"", code, "\": ", count);
  }
  const double throughput = seconds > 0 ? ok / seconds : 0;
  const double tokens_per_s = seconds > 0 ? output_tokens / seconds : 0;
  auto ms = [](double s) { return s * 1000; };
  if (absl::GetFlag(FLAGS_json)) {
    std::printf(
        "{\"requests\": %zu, \"ok\": %d, \"seconds\": %.3f, \"throughput_per_s\": %.2f, "
        "\"latency_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"p99.9\": %.3f}, "
        "\"ttft_ms\": {\"p50\": %.3f, \"p99\": %.3f}, "
        "\"tpot_ms\": {\"p50\": %.3f, \"p99\": %.3f}, \"output_tokens\": %lld, "
        "\"output_tokens_per_s\": %.2f, \"codes\": {%s}}\n",
        samples.size(), ok, seconds, throughput, ms(Percentile(latencies, 50)),
        ms(Percentile(latencies, 90)), ms(Percentile(latencies, 99)),
        ms(Percentile(latencies, 99.9)), ms(Percentile(ttfts, 50)),
        ms(Percentile(ttfts, 99)), ms(Percentile(tpots, 50)), ms(Percentile(tpots, 99)),
        static_cast<long long>(output_tokens), tokens_per_s, code_json.c_str());
  } else {
    std::fprintf(stderr, "\n");
    std::printf("requests %zu (ok %d) in %.2f s: %.1f/s\n", samples.size(), ok, seconds,
                throughput);
    std::printf("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f\n",
                ms(Percentile(latencies, 50)), ms(Percentile(latencies, 90)),
                ms(Percentile(latencies, 99)), ms(Percentile(latencies, 99.9)));
    if (!ttfts.empty()) {
      std::printf("time to first token ms: p50 %.2f  p99 %.2f\n",
                  ms(Percentile(ttfts, 50)), ms(Percentile(ttfts, 99)));
    }
    if (!tpots.empty()) {
      std::printf("time per output token ms: p50 %.2f  p99 %.2f\n",
                  ms(Percentile(tpots, 50)), ms(Percentile(tpots, 99)));
    }
    if (output_tokens > 0) {
      std::printf("output tokens %lld: %.1f/s\n", static_cast<long long>(output_tokens),
                  tokens_per_s);
    }
    std::printf("codes: {%s}\n", code_json.c_str());
  }
  return ok == static_cast<int>(samples.size()) ? 0 : 1;
}
