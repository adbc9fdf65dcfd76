#include "core/tokenizers/protobuf_wire.h"

namespace heed::tokenizers {

bool WireReader::NextField(int* field, int* wire_type) {
  if (failed_ || done()) return false;
  const uint64_t tag = ReadVarint();
  if (failed_) return false;
  *field = static_cast<int>(tag >> 3);
  *wire_type = static_cast<int>(tag & 7);
  if (*field == 0) failed_ = true;
  return !failed_;
}

uint64_t WireReader::ReadVarint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) break;
    const uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  failed_ = true;
  return 0;
}

uint32_t WireReader::ReadFixed32() {
  if (data_.size() - pos_ < 4 || pos_ > data_.size()) {
    failed_ = true;
    return 0;
  }
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i)
    value = (value << 8) | static_cast<uint8_t>(data_[pos_ + i]);
  pos_ += 4;
  return value;
}

absl::string_view WireReader::ReadBytes() {
  const uint64_t length = ReadVarint();
  if (failed_ || length > data_.size() - pos_) {
    failed_ = true;
    return {};
  }
  absl::string_view bytes = data_.substr(pos_, length);
  pos_ += length;
  return bytes;
}

void WireReader::Skip(int wire_type) {
  switch (wire_type) {
    case 0:
      ReadVarint();
      break;
    case 1:
      if (data_.size() - pos_ < 8) {
        failed_ = true;
      } else {
        pos_ += 8;
      }
      break;
    case 2:
      ReadBytes();
      break;
    case 5:
      ReadFixed32();
      break;
    default:
      failed_ = true;
  }
}

}  // namespace heed::tokenizers
