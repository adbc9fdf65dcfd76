// A minimal reader of the protobuf wire format, enough to read SentencePiece
// .model files with our own schema: core must not link libprotobuf, and
// Debian's libsentencepiece carries a protobuf that cannot share a process
// with gRPC's. Every read is bounds-checked; malformed input is an error.
#ifndef HEED_CORE_TOKENIZERS_PROTOBUF_WIRE_H_
#define HEED_CORE_TOKENIZERS_PROTOBUF_WIRE_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace heed::tokenizers {

class WireReader {
 public:
  explicit WireReader(absl::string_view data) : data_(data) {}

  bool done() const { return pos_ >= data_.size(); }
  bool failed() const { return failed_; }

  // Reads the next field's tag; false at the end or on malformed input.
  bool NextField(int* field, int* wire_type);
  uint64_t ReadVarint();
  uint32_t ReadFixed32();
  absl::string_view ReadBytes();  // length-delimited
  // Skips a field of `wire_type` (0 varint, 1 fixed64, 2 bytes, 5 fixed32).
  void Skip(int wire_type);

 private:
  absl::string_view data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace heed::tokenizers

#endif  // HEED_CORE_TOKENIZERS_PROTOBUF_WIRE_H_
