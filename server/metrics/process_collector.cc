#include "server/metrics/process_collector.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "server/process/fd_limit.h"

namespace heed::server {
namespace {

// Fields of /proc/self/stat after the command name, which may contain spaces
// and is therefore skipped up to its closing parenthesis.
std::vector<std::string> ReadStatFields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  const size_t close = line.rfind(')');
  std::vector<std::string> fields;
  if (close == std::string::npos) return fields;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  while (rest >> field) fields.push_back(field);
  return fields;
}

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

double CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the descriptor opendir itself holds
}

prometheus::MetricFamily Family(const std::string& name, const std::string& help,
                                prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

}  // namespace

ProcessCollector::ProcessCollector() {
  // Field 22 of /proc/self/stat (index 19 after the name) is the start time in
  // clock ticks since boot.
  const std::vector<std::string> fields = ReadStatFields();
  const double ticks = sysconf(_SC_CLK_TCK);
  start_time_seconds_ =
      fields.size() > 19 ? BootTimeSeconds() + std::stod(fields[19]) / ticks : 0;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  const std::vector<std::string> fields = ReadStatFields();
  const double ticks = sysconf(_SC_CLK_TCK);
  const double page = sysconf(_SC_PAGESIZE);
  // utime and stime are fields 14 and 15, rss (pages) is field 24.
  const double cpu =
      fields.size() > 12 ? (std::stod(fields[11]) + std::stod(fields[12])) / ticks : 0;
  const double rss = fields.size() > 21 ? std::stod(fields[21]) * page : 0;
  return {
      Family("process_cpu_seconds_total", "User and system CPU time in seconds.",
             prometheus::MetricType::Counter, cpu),
      Family("process_resident_memory_bytes", "Resident memory size in bytes.",
             prometheus::MetricType::Gauge, rss),
      Family("process_open_fds", "Open file descriptors.", prometheus::MetricType::Gauge,
             CountOpenFds()),
      Family("process_max_fds", "Maximum number of open file descriptors.",
             prometheus::MetricType::Gauge, static_cast<double>(CurrentFdLimit())),
      Family("process_start_time_seconds",
             "Start time of the process since the Unix epoch in seconds.",
             prometheus::MetricType::Gauge, start_time_seconds_),
  };
}

}  // namespace heed::server
