#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/io/json_file.h"
#include "nlohmann/json.hpp"

namespace heed::io {
namespace {

// The reference implementation's own cap on header size.
constexpr uint64_t kMaxHeaderBytes = 100 << 20;

absl::Status Corrupt(absl::string_view file, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(file, ": ", what));
}

absl::StatusOr<StoredType> ParseType(const std::string& name, absl::string_view file,
                                     absl::string_view tensor) {
  if (name == "F32") return StoredType::kF32;
  if (name == "F16") return StoredType::kF16;
  if (name == "BF16") return StoredType::kBF16;
  return Corrupt(file,
                 absl::StrCat("tensor \"", tensor, "\" has dtype ", name,
                              ", which heed does not read (F32, F16 and BF16 only)"));
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal half: normalize
    exponent = 113;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
  }
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

}  // namespace

size_t StoredTypeSize(StoredType type) { return type == StoredType::kF32 ? 4 : 2; }

absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(absl::string_view prefix,
                                                         uint64_t file_size,
                                                         absl::string_view file) {
  if (file_size < 8 || prefix.size() < 8) {
    return Corrupt(file, "too short for a safetensors file (no 8-byte header length)");
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i)
    header_len = (header_len << 8) | static_cast<uint8_t>(prefix[i]);
  if (header_len > kMaxHeaderBytes || header_len > file_size - 8) {
    return Corrupt(file, absl::StrCat("header length ", header_len, " exceeds the file (",
                                      file_size, " bytes) or the 100 MB limit"));
  }
  if (prefix.size() < 8 + header_len) return Corrupt(file, "header is truncated");
  nlohmann::json json = nlohmann::json::parse(prefix.substr(8, header_len), nullptr,
                                              /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Corrupt(file, "header is not a JSON object");
  }
  SafetensorsHeader header;
  header.data_start = 8 + header_len;
  const uint64_t data_size = file_size - header.data_start;
  for (const auto& [name, entry] : json.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) return Corrupt(file, "__metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string())
          return Corrupt(file, "__metadata__ values must be strings");
        header.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string() ||
        !entry.contains("shape") || !entry["shape"].is_array() ||
        !entry.contains("data_offsets") || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2) {
      return Corrupt(file, absl::StrCat("tensor \"", name,
                                        "\" needs dtype, shape and two data_offsets"));
    }
    StoredTensor tensor;
    tensor.name = name;
    absl::StatusOr<StoredType> type =
        ParseType(entry["dtype"].get<std::string>(), file, name);
    if (!type.ok()) return type.status();
    tensor.type = *type;
    // Element count with overflow checks: each dimension and the running
    // product stay below 2^62.
    uint64_t elements = 1;
    for (const auto& dim : entry["shape"]) {
      if (!dim.is_number_unsigned()) {
        return Corrupt(file,
                       absl::StrCat("tensor \"", name, "\" has a non-integer dimension"));
      }
      const uint64_t d = dim.get<uint64_t>();
      if (d != 0 && elements > (uint64_t{1} << 62) / d) {
        return Corrupt(file, absl::StrCat("tensor \"", name, "\" has an absurd shape"));
      }
      elements *= d;
      tensor.shape.push_back(static_cast<int64_t>(d));
    }
    const auto& offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
      return Corrupt(file,
                     absl::StrCat("tensor \"", name, "\" has invalid data_offsets"));
    }
    tensor.begin = offsets[0].get<uint64_t>();
    tensor.end = offsets[1].get<uint64_t>();
    if (tensor.begin > tensor.end || tensor.end > data_size) {
      return Corrupt(
          file,
          absl::StrCat("tensor \"", name, "\" data [", tensor.begin, ", ", tensor.end,
                       ") lies outside the data area of ", data_size, " bytes"));
    }
    if (tensor.end - tensor.begin != elements * StoredTypeSize(tensor.type)) {
      return Corrupt(file,
                     absl::StrCat("tensor \"", name, "\" has ", tensor.end - tensor.begin,
                                  " bytes but its shape needs ",
                                  elements * StoredTypeSize(tensor.type)));
    }
    header.tensors[name] = std::move(tensor);
  }
  std::vector<const StoredTensor*> by_offset;
  for (const auto& [name, tensor] : header.tensors) by_offset.push_back(&tensor);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const auto* a, const auto* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    if (by_offset[i]->begin < by_offset[i - 1]->end) {
      return Corrupt(file, absl::StrCat("tensors \"", by_offset[i - 1]->name, "\" and \"",
                                        by_offset[i]->name, "\" overlap"));
    }
  }
  return header;
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(
    const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile);
  file->path_ = path;
  file->mapping_size_ = static_cast<size_t>(st.st_size);
  if (file->mapping_size_ > 0) {
    void* p = mmap(nullptr, file->mapping_size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      return absl::InternalError(
          absl::StrCat(path, ": mmap failed: ", std::strerror(errno)));
    }
    file->mapping_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  absl::StatusOr<SafetensorsHeader> header = ParseSafetensorsHeader(
      absl::string_view(reinterpret_cast<const char*>(file->mapping_),
                        file->mapping_size_),
      file->mapping_size_, path);
  if (!header.ok()) return header.status();
  file->header_ = std::move(*header);
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_ != nullptr) munmap(const_cast<uint8_t*>(mapping_), mapping_size_);
}

const StoredTensor* SafetensorsFile::Find(absl::string_view name) const {
  auto it = header_.tensors.find(std::string(name));
  return it == header_.tensors.end() ? nullptr : &it->second;
}

const void* SafetensorsFile::Data(const StoredTensor& tensor) const {
  return mapping_ + header_.data_start + tensor.begin;
}

void SafetensorsFile::Release(const StoredTensor& tensor) const {
  // madvise works on whole pages: release only those inside the tensor.
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(Data(tensor));
  const uintptr_t end = begin + (tensor.end - tensor.begin);
  const uintptr_t first = (begin + page - 1) / page * page;
  const uintptr_t last = end / page * page;
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

absl::StatusOr<Checkpoint> Checkpoint::Open(const std::string& model_dir) {
  namespace fs = std::filesystem;
  Checkpoint checkpoint;
  const fs::path single = fs::path(model_dir) / "model.safetensors";
  const fs::path index = fs::path(model_dir) / "model.safetensors.index.json";
  std::error_code ec;
  if (fs::exists(single, ec)) {
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(single);
    if (!file.ok()) return file.status();
    checkpoint.files_.push_back(std::move(*file));
  } else if (fs::exists(index, ec)) {
    absl::StatusOr<nlohmann::json> json = ReadJsonFile(index.string());
    if (!json.ok()) return json.status();
    if (!json->contains("weight_map") || !(*json)["weight_map"].is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(index.string(), ": no weight_map object"));
    }
    std::map<std::string, const SafetensorsFile*> shards;
    for (const auto& [tensor, shard] : (*json)["weight_map"].items()) {
      if (!shard.is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(index.string(), ": shard of \"",
                                                       tensor, "\" is not a file name"));
      }
      const std::string shard_name = shard.get<std::string>();
      if (shard_name.find('/') != std::string::npos || shard_name.starts_with(".")) {
        return absl::InvalidArgumentError(absl::StrCat(
            index.string(), ": shard \"", shard_name, "\" is not a plain file name"));
      }
      if (!shards.contains(shard_name)) {
        absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
            SafetensorsFile::Open((fs::path(model_dir) / shard_name).string());
        if (!file.ok()) return file.status();
        shards[shard_name] = file->get();
        checkpoint.files_.push_back(std::move(*file));
      }
      if (shards[shard_name]->Find(tensor) == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            index.string(), ": \"", tensor, "\" is not in its shard ", shard_name));
      }
    }
  } else {
    return absl::NotFoundError(
        absl::StrCat(model_dir,
                     ": no model.safetensors or model.safetensors.index.json (heed reads "
                     "safetensors checkpoints only; convert pytorch_model.bin first)"));
  }
  for (const auto& file : checkpoint.files_) {
    for (const auto& [name, tensor] : file->header().tensors) {
      checkpoint.index_.emplace(name, file.get());
    }
  }
  return checkpoint;
}

bool Checkpoint::Contains(absl::string_view name) const {
  return index_.find(name) != index_.end();
}

std::vector<std::string> Checkpoint::TensorNames() const {
  std::vector<std::string> names;
  for (const auto& [name, file] : index_) names.push_back(name);
  return names;
}

absl::StatusOr<Tensor> Checkpoint::LoadF32(absl::string_view name,
                                           const Shape& expected_shape) const {
  auto it = index_.find(name);
  if (it == index_.end()) {
    return absl::NotFoundError(absl::StrCat("checkpoint has no tensor \"", name, "\""));
  }
  const SafetensorsFile& file = *it->second;
  const StoredTensor& stored = *file.Find(name);
  if (!expected_shape.empty() && stored.shape != expected_shape) {
    return absl::InvalidArgumentError(absl::StrCat(
        file.path(), ": tensor \"", name, "\" has shape ", ShapeToString(stored.shape),
        ", expected ", ShapeToString(expected_shape)));
  }
  Tensor tensor(DType::kF32, stored.shape);
  const int64_t n = tensor.num_elements();
  float* out = tensor.data<float>();
  const uint8_t* data = static_cast<const uint8_t*>(file.Data(stored));
  switch (stored.type) {
    case StoredType::kF32:
      std::memcpy(out, data, n * sizeof(float));
      break;
    case StoredType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t bits;
        std::memcpy(&bits, data + 2 * i, 2);
        out[i] = Bf16ToFloat(bf16{bits});
      }
      break;
    case StoredType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t bits;
        std::memcpy(&bits, data + 2 * i, 2);
        out[i] = HalfToFloat(bits);
      }
      break;
  }
  file.Release(stored);
  return tensor;
}

}  // namespace heed::io
