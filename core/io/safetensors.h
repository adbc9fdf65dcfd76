// Reading Hugging Face safetensors checkpoints: an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then
// the data. Files are memory-mapped; every header field is validated before a
// byte of data is touched, so a damaged or hostile file yields an error that
// names the file and the problem, never a crash or an out-of-bounds read.
#ifndef HEED_CORE_IO_SAFETENSORS_H_
#define HEED_CORE_IO_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tensor/tensor.h"

namespace heed::io {

// Element types heed reads; others (I64, F64, BOOL, ...) are rejected by name.
enum class StoredType { kF32, kF16, kBF16 };
size_t StoredTypeSize(StoredType type);

struct StoredTensor {
  std::string name;
  StoredType type;
  Shape shape;
  uint64_t begin = 0;  // byte range inside the data area
  uint64_t end = 0;
};

struct SafetensorsHeader {
  uint64_t data_start = 0;  // file offset of the data area
  std::map<std::string, StoredTensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Parses and validates the header of a safetensors file whose first bytes are
// `prefix` and whose total size is `file_size` (prefix may be the whole file).
// `file_name` only appears in error messages.
absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(absl::string_view prefix,
                                                         uint64_t file_size,
                                                         absl::string_view file_name);

// One memory-mapped safetensors file.
class SafetensorsFile {
 public:
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const SafetensorsHeader& header() const { return header_; }
  const StoredTensor* Find(absl::string_view name) const;
  // Raw bytes of a tensor of this file (validated to lie inside the mapping).
  const void* Data(const StoredTensor& tensor) const;
  // Drops the tensor's pages from this process's resident memory (they stay
  // in the page cache; a later read faults them back in). Loading converts
  // every tensor once, so without this the whole file would count twice.
  void Release(const StoredTensor& tensor) const;

 private:
  SafetensorsFile() = default;
  std::string path_;
  SafetensorsHeader header_;
  const uint8_t* mapping_ = nullptr;
  size_t mapping_size_ = 0;
};

// A model directory's weights: model.safetensors, or the shards listed by
// model.safetensors.index.json.
class Checkpoint {
 public:
  static absl::StatusOr<Checkpoint> Open(const std::string& model_dir);

  bool Contains(absl::string_view name) const;
  std::vector<std::string> TensorNames() const;
  // The tensor converted to f32. If `expected_shape` is not empty, a different
  // shape is an error naming the tensor, both shapes and the file.
  absl::StatusOr<Tensor> LoadF32(absl::string_view name,
                                 const Shape& expected_shape = {}) const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*, std::less<>> index_;
};

}  // namespace heed::io

#endif  // HEED_CORE_IO_SAFETENSORS_H_
