// A strict safetensors reader: exactly the header grammar, every data byte owned by one tensor.
#include "safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <tuple>
#include <utility>

#include "mbrlhpo/errors.h"
#include "mbrlhpo/model_file.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error \
    "safetensors.cpp reads little-endian safetensors data in place: a little-endian host is required"
#endif

namespace mbrlhpo {
namespace detail {

int DtypeSize(const std::string& dtype) {
  static const std::map<std::string, int> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"I64", 8}, {"U64", 8},     {"F64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += std::to_string(shape[i]);
    s += (shape.size() == 1 ? "," : (i + 1 < shape.size() ? ", " : ""));
  }
  return s + ")";
}

}  // namespace detail

namespace {

using detail::DtypeSize;
using detail::ShapeString;

constexpr int kMaxRank = 8;
constexpr size_t kMaxTensors = 4096;

struct TensorInfo {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

// A strict parser of exactly the safetensors header grammar (no general JSON values).
class HeaderParser {
 public:
  HeaderParser(const uint8_t* p, size_t n, const std::string& origin)
      : p_(p), n_(n), origin_(origin) {}

  void Parse(std::map<std::string, std::string>& metadata, std::vector<TensorInfo>& tensors) {
    SkipWs();
    Expect('{', "the header's opening '{'");
    SkipWs();
    bool seen_metadata = false;
    std::map<std::string, bool> names;
    if (!Consume('}')) {
      while (true) {
        SkipWs();
        std::string key = ParseString();
        SkipWs();
        Expect(':', "':' after a key");
        SkipWs();
        if (key == "__metadata__") {
          if (seen_metadata) Fail("'__metadata__' appears twice");
          seen_metadata = true;
          ParseMetadata(metadata);
        } else {
          if (!names.emplace(key, true).second) Fail("tensor '" + key + "' appears twice");
          if (tensors.size() >= kMaxTensors) Fail("more than 4096 tensors");
          TensorInfo info = ParseTensorInfo(key);
          tensors.push_back(std::move(info));
        }
        SkipWs();
        if (Consume(',')) continue;
        Expect('}', "',' or '}' after a header entry");
        break;
      }
    }
    SkipWs();  // safetensors pads the header with spaces
    if (pos_ != n_) Fail("unexpected bytes after the header object");
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw Error(
        internal::Concat(origin_, ": corrupt safetensors header (byte ", pos_ + 8, "): ", what));
  }
  void SkipWs() {
    while (pos_ < n_ &&
           (p_[pos_] == ' ' || p_[pos_] == '\t' || p_[pos_] == '\n' || p_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Consume(char c) {
    if (pos_ < n_ && p_[pos_] == static_cast<uint8_t>(c)) {
      ++pos_;
      return true;
    }
    return false;
  }
  void Expect(char c, const char* what) {
    if (pos_ >= n_) Fail(std::string("header ends where ") + what + " was expected");
    if (!Consume(c)) Fail(std::string("expected ") + what);
  }
  uint8_t Next(const char* what) {
    if (pos_ >= n_) Fail(std::string("header ends inside ") + what);
    return p_[pos_++];
  }

  uint32_t Hex4() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const uint8_t c = Next("a \\u escape");
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        v |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        v |= c - 'A' + 10;
      } else {
        Fail("expected 4 hex digits after \\u");
      }
    }
    return v;
  }

  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // A JSON string; NUL (raw or escaped) and invalid UTF-8 are rejected.
  std::string ParseString() {
    Expect('"', "a string");
    std::string out;
    while (true) {
      const uint8_t c = Next("a string");
      if (c == '"') return out;
      if (c < 0x20) Fail("control character in a string");
      if (c == '\\') {
        const uint8_t e = Next("a string escape");
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            uint32_t cp = Hex4();
            if (cp >= 0xDC00 && cp <= 0xDFFF) Fail("unpaired low surrogate in a \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (Next("a surrogate pair") != '\\' || Next("a surrogate pair") != 'u') {
                Fail("unpaired high surrogate in a \\u escape");
              }
              const uint32_t low = Hex4();
              if (low < 0xDC00 || low > 0xDFFF) Fail("invalid low surrogate in a \\u escape");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            if (cp == 0) Fail("NUL character in a string");
            AppendUtf8(cp, out);
            break;
          }
          default:
            Fail("invalid escape in a string");
        }
        continue;
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        continue;
      }
      // Multi-byte UTF-8: reject overlong forms, surrogates and code points above U+10FFFF.
      int extra;
      uint32_t cp;
      if (c >= 0xC2 && c <= 0xDF) {
        extra = 1;
        cp = c & 0x1F;
      } else if (c >= 0xE0 && c <= 0xEF) {
        extra = 2;
        cp = c & 0x0F;
      } else if (c >= 0xF0 && c <= 0xF4) {
        extra = 3;
        cp = c & 0x07;
      } else {
        Fail("invalid UTF-8 in a string");
      }
      for (int i = 0; i < extra; ++i) {
        const uint8_t cc = Next("a UTF-8 sequence");
        if ((cc & 0xC0) != 0x80) Fail("invalid UTF-8 in a string");
        cp = (cp << 6) | (cc & 0x3F);
      }
      if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
          (cp >= 0xD800 && cp <= 0xDFFF)) {
        Fail("invalid UTF-8 in a string");
      }
      AppendUtf8(cp, out);
    }
  }

  // A non-negative integer without sign, fraction or exponent, at most 2^53.
  uint64_t ParseUint() {
    if (pos_ >= n_) Fail("header ends where an integer was expected");
    if (p_[pos_] < '0' || p_[pos_] > '9') Fail("expected a non-negative integer");
    if (p_[pos_] == '0' && pos_ + 1 < n_ && p_[pos_ + 1] >= '0' && p_[pos_ + 1] <= '9') {
      Fail("integer with a leading zero");
    }
    uint64_t v = 0;
    while (pos_ < n_ && p_[pos_] >= '0' && p_[pos_] <= '9') {
      v = v * 10 + (p_[pos_] - '0');
      if (v > (uint64_t{1} << 53)) Fail("integer too large");
      ++pos_;
    }
    if (pos_ < n_ && (p_[pos_] == '.' || p_[pos_] == 'e' || p_[pos_] == 'E')) {
      Fail("expected an integer, got a fractional number");
    }
    return v;
  }

  std::vector<uint64_t> ParseUintArray(size_t max_items, const char* what) {
    Expect('[', what);
    std::vector<uint64_t> out;
    SkipWs();
    if (Consume(']')) return out;
    while (true) {
      SkipWs();
      if (out.size() >= max_items) Fail(std::string("too many entries in ") + what);
      out.push_back(ParseUint());
      SkipWs();
      if (Consume(',')) continue;
      Expect(']', "',' or ']' in an array");
      return out;
    }
  }

  void ParseMetadata(std::map<std::string, std::string>& metadata) {
    Expect('{', "'__metadata__' to be an object");
    SkipWs();
    if (Consume('}')) return;
    while (true) {
      SkipWs();
      std::string key = ParseString();
      SkipWs();
      Expect(':', "':' after a metadata key");
      SkipWs();
      if (pos_ < n_ && p_[pos_] != '"') Fail("metadata value of '" + key + "' is not a string");
      std::string value = ParseString();
      if (!metadata.emplace(key, std::move(value)).second) {
        Fail("metadata key '" + key + "' appears twice");
      }
      SkipWs();
      if (Consume(',')) continue;
      Expect('}', "',' or '}' in '__metadata__'");
      return;
    }
  }

  TensorInfo ParseTensorInfo(const std::string& name) {
    Expect('{', "a tensor entry object");
    TensorInfo info;
    info.name = name;
    bool has_dtype = false, has_shape = false, has_offsets = false;
    SkipWs();
    if (!Consume('}')) {
      while (true) {
        SkipWs();
        const std::string key = ParseString();
        SkipWs();
        Expect(':', "':' after a key");
        SkipWs();
        if (key == "dtype") {
          if (has_dtype) Fail("'dtype' appears twice in tensor '" + name + "'");
          has_dtype = true;
          info.dtype = ParseString();
          if (DtypeSize(info.dtype) == 0) {
            Fail("unknown dtype '" + info.dtype + "' of tensor '" + name + "'");
          }
        } else if (key == "shape") {
          if (has_shape) Fail("'shape' appears twice in tensor '" + name + "'");
          has_shape = true;
          for (uint64_t d : ParseUintArray(kMaxRank, "a shape array (rank <= 8)")) {
            info.shape.push_back(static_cast<int64_t>(d));
          }
        } else if (key == "data_offsets") {
          if (has_offsets) Fail("'data_offsets' appears twice in tensor '" + name + "'");
          has_offsets = true;
          const std::vector<uint64_t> off = ParseUintArray(2, "a data_offsets array");
          if (off.size() != 2) Fail("expected data_offsets [begin, end] in tensor '" + name + "'");
          info.begin = off[0];
          info.end = off[1];
        } else {
          Fail("unexpected key '" + key + "' in tensor '" + name + "'");
        }
        SkipWs();
        if (Consume(',')) continue;
        Expect('}', "',' or '}' in a tensor entry");
        break;
      }
    }
    if (!has_dtype || !has_shape || !has_offsets) {
      Fail("tensor '" + name + "' lacks one of dtype, shape, data_offsets");
    }
    return info;
  }

  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  const std::string& origin_;
};

}  // namespace

int64_t SafetensorsTensor::num_elements() const {
  const int size = DtypeSize(dtype);
  return size == 0 ? 0 : static_cast<int64_t>(data.size() / size);
}

SafetensorsFile ParseSafetensors(const uint8_t* data, size_t size, const std::string& origin) {
  MBRLHPO_CHECK(size <= kMaxModelFileBytes, origin, ": ", size, " bytes; expected at most ",
                kMaxModelFileBytes);
  MBRLHPO_CHECK(size >= 8, origin, ": truncated: ", size,
                " bytes, but a safetensors file starts with an 8-byte header size");
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | data[i];
  MBRLHPO_CHECK(header_size <= kMaxSafetensorsHeaderBytes, origin,
                ": not a safetensors file: absurd header size ", header_size, " (expected at most ",
                kMaxSafetensorsHeaderBytes, " bytes)");
  MBRLHPO_CHECK(header_size >= 2, origin, ": not a safetensors file: header size ", header_size,
                " is too small for a JSON object");
  MBRLHPO_CHECK(header_size <= size - 8, origin, ": truncated: the header says ", header_size,
                " bytes but only ", size - 8, " follow");
  MBRLHPO_CHECK(data[8] == '{', origin,
                ": not a safetensors file: the header does not start with '{'");

  SafetensorsFile file;
  std::vector<TensorInfo> infos;
  HeaderParser(data + 8, static_cast<size_t>(header_size), origin).Parse(file.metadata, infos);

  const uint64_t buffer_size = size - 8 - header_size;
  const uint8_t* buffer = data + 8 + header_size;
  uint64_t data_end = 0;
  for (const TensorInfo& t : infos) {
    MBRLHPO_CHECK(t.begin <= t.end, origin, ": tensor '", t.name, "' has data_offsets [", t.begin,
                  ", ", t.end, "] with begin > end");
    data_end = std::max(data_end, t.end);
  }
  MBRLHPO_CHECK(data_end <= buffer_size, origin, ": truncated: the header describes ", data_end,
                " data bytes but only ", buffer_size, " follow it");
  for (const TensorInfo& t : infos) {
    const uint64_t elem = static_cast<uint64_t>(DtypeSize(t.dtype));
    uint64_t bytes = elem;
    for (int64_t d : t.shape) {
      const uint64_t ud = static_cast<uint64_t>(d);
      MBRLHPO_CHECK(ud == 0 || bytes <= buffer_size / ud, origin, ": tensor '", t.name,
                    "' of shape ", ShapeString(t.shape), " is larger than the file's ", buffer_size,
                    " data bytes (truncated or corrupt)");
      bytes *= ud;
    }
    MBRLHPO_CHECK(t.end - t.begin == bytes, origin, ": tensor '", t.name, "' of dtype ", t.dtype,
                  " and shape ", ShapeString(t.shape), " needs ", bytes,
                  " bytes, its data_offsets span ", t.end - t.begin);
  }
  // Every data byte belongs to exactly one tensor (no holes, overlaps or trailing bytes).
  std::vector<const TensorInfo*> order;
  for (const TensorInfo& t : infos) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return std::tie(a->begin, a->end) < std::tie(b->begin, b->end);
  });
  uint64_t cursor = 0;
  for (const TensorInfo* t : order) {
    MBRLHPO_CHECK(t->begin == cursor, origin, ": tensor '", t->name, "' starts at data byte ",
                  t->begin, ", expected ", cursor, " (overlapping or missing tensor data)");
    cursor = t->end;
  }
  MBRLHPO_CHECK(cursor == buffer_size, origin, ": ", buffer_size - cursor,
                " data bytes after the last tensor (expected none: corrupt file)");
  for (const TensorInfo& t : infos) {
    SafetensorsTensor tensor;
    tensor.dtype = t.dtype;
    tensor.shape = t.shape;
    tensor.data.assign(buffer + t.begin, buffer + t.end);
    file.tensors.emplace(t.name, std::move(tensor));
  }
  return file;
}

}  // namespace mbrlhpo
