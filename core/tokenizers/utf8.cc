#include "core/tokenizers/utf8.h"

namespace heed::tokenizers {

int DecodeUtf8(absl::string_view s, size_t* length) {
  *length = 1;
  if (s.empty()) return -1;
  const unsigned char c0 = s[0];
  if (c0 < 0x80) return c0;
  int n, cp, min;
  if ((c0 & 0xe0) == 0xc0) {
    n = 2, cp = c0 & 0x1f, min = 0x80;
  } else if ((c0 & 0xf0) == 0xe0) {
    n = 3, cp = c0 & 0x0f, min = 0x800;
  } else if ((c0 & 0xf8) == 0xf0) {
    n = 4, cp = c0 & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (s.size() < static_cast<size_t>(n)) return -1;
  for (int i = 1; i < n; ++i) {
    const unsigned char c = s[i];
    if ((c & 0xc0) != 0x80) return -1;
    cp = (cp << 6) | (c & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  *length = n;
  return cp;
}

bool IsValidUtf8(absl::string_view s) {
  while (!s.empty()) {
    size_t length;
    if (DecodeUtf8(s, &length) < 0) return false;
    s.remove_prefix(length);
  }
  return true;
}

void AppendUtf8(int cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

}  // namespace heed::tokenizers
