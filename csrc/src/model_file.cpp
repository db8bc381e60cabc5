#include "mbrlhpo/model_file.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <tuple>
#include <utility>

#include "mbrlhpo/build_info.h"
#include "mbrlhpo/errors.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error \
    "model_file.cpp reads little-endian safetensors data in place: a little-endian host is required"
#endif

namespace mbrlhpo {
namespace {

// ------------------------------------------------------------------------------------ SHA-256
// FIPS 180-4.
class Sha256 {
 public:
  Sha256() { Reset(); }
  void Reset() {
    state_ = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
              0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    length_ = 0;
    buffered_ = 0;
  }
  void Update(const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    length_ += size;
    if (buffered_ > 0) {
      const size_t take = std::min(size, size_t{64} - buffered_);
      std::memcpy(buffer_.data() + buffered_, p, take);
      buffered_ += take;
      p += take;
      size -= take;
      if (buffered_ < 64) return;
      Block(buffer_.data());
      buffered_ = 0;
    }
    for (; size >= 64; p += 64, size -= 64) Block(p);
    if (size > 0) std::memcpy(buffer_.data(), p, size);
    buffered_ = size;
  }
  void Update(const std::string& s) { Update(s.data(), s.size()); }
  std::string HexDigest() {
    const uint64_t bits = length_ * 8;
    const uint8_t pad = 0x80;
    Update(&pad, 1);
    const uint8_t zero = 0;
    while (buffered_ != 56) Update(&zero, 1);
    std::array<uint8_t, 8> len;
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
    Update(len.data(), 8);
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (uint32_t word : state_) {
      for (int i = 3; i >= 0; --i) {
        const uint8_t byte = static_cast<uint8_t>(word >> (8 * i));
        out += kHex[byte >> 4];
        out += kHex[byte & 15];
      }
    }
    Reset();
    return out;
  }

 private:
  static uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
  void Block(const uint8_t* p) {
    static constexpr uint32_t kK[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = (uint32_t{p[4 * i]} << 24) | (uint32_t{p[4 * i + 1]} << 16) |
             (uint32_t{p[4 * i + 2]} << 8) | uint32_t{p[4 * i + 3]};
    }
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
    uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t s1 = Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25);
      const uint32_t ch = (e & f) ^ (~e & g);
      const uint32_t t1 = h + s1 + ch + kK[i] + w[i];
      const uint32_t s0 = Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22);
      const uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
      const uint32_t t2 = s0 + maj;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    state_[0] += a;
    state_[1] += b;
    state_[2] += c;
    state_[3] += d;
    state_[4] += e;
    state_[5] += f;
    state_[6] += g;
    state_[7] += h;
  }

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_;
  uint64_t length_ = 0;
  size_t buffered_ = 0;
};

// ------------------------------------------------------------------------------------ header
constexpr int kMaxRank = 8;
constexpr size_t kMaxTensors = 4096;

int DtypeSize(const std::string& dtype) {
  static const std::map<std::string, int> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"I64", 8}, {"U64", 8},     {"F64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

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

// ------------------------------------------------------------------------------------ values
bool ParseInt(const std::string& s, int64_t low, int64_t high, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (s.size() == 1) return false;
  }
  if (s[i] == '0' && s.size() > i + 1) return false;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) return false;
    v = v * 10 + (s[i] - '0');
  }
  v = negative ? -v : v;
  if (v < low || v > high) return false;
  *out = v;
  return true;
}

bool ParseUint64(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 20 || (s[0] == '0' && s.size() > 1)) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool ParseDouble(const std::string& s, double* out) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+')) {
      return false;
    }
  }
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno != 0 || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += std::to_string(shape[i]);
    s += (shape.size() == 1 ? "," : (i + 1 < shape.size() ? ", " : ""));
  }
  return s + ")";
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  MBRLHPO_CHECK(in.is_open(), "cannot open model file '", path, "'");
  const std::streamoff size = in.tellg();
  MBRLHPO_CHECK(size >= 0, "cannot read model file '", path, "' (not a regular file?)");
  MBRLHPO_CHECK(static_cast<uint64_t>(size) <= kMaxModelFileBytes, "model file '", path, "' is ",
                size, " bytes; expected at most ", kMaxModelFileBytes);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (size > 0) in.read(reinterpret_cast<char*>(bytes.data()), size);
  MBRLHPO_CHECK(in.good() || (size == 0 && !in.bad()), "cannot read model file '", path,
                "' (not a regular file?)");
  return bytes;
}

}  // namespace

std::string Sha256Hex(const void* data, size_t size) {
  Sha256 h;
  h.Update(data, size);
  return h.HexDigest();
}

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

std::string ModelFileChecksum(const SafetensorsFile& file) {
  Sha256 h;
  const char nul = '\0';
  for (const auto& [name, t] : file.tensors) {
    std::string shape;
    for (size_t i = 0; i < t.shape.size(); ++i) {
      shape += (i ? "," : "") + std::to_string(t.shape[i]);
    }
    h.Update("T", 1);
    h.Update(name);
    h.Update(&nul, 1);
    h.Update(t.dtype);
    h.Update(&nul, 1);
    h.Update(shape);
    h.Update(&nul, 1);
    h.Update(t.data.data(), t.data.size());
  }
  for (const auto& [key, value] : file.metadata) {
    if (key == "sha256") continue;
    h.Update("M", 1);
    h.Update(key);
    h.Update(&nul, 1);
    h.Update(value);
    h.Update(&nul, 1);
  }
  return h.HexDigest();
}

// ------------------------------------------------------------------------------------ ModelFile
ModelFile ModelFile::Load(const std::string& path) {
  const std::vector<uint8_t> bytes = ReadFile(path);
  return FromBytes(bytes.data(), bytes.size(), "model file '" + path + "'");
}

ModelFile ModelFile::FromBytes(const uint8_t* data, size_t size, const std::string& origin) {
  ModelFile m;
  m.file_ = ParseSafetensors(data, size, origin);
  m.Validate(origin);
  return m;
}

const std::string& ModelFile::mjcf() const { return file_.metadata.at("mjcf"); }
const std::string& ModelFile::sha256() const { return file_.metadata.at("sha256"); }

void ModelFile::Validate(const std::string& origin) {
  const auto& meta = file_.metadata;
  auto get = [&](const std::string& key) -> const std::string& {
    auto it = meta.find(key);
    MBRLHPO_CHECK(it != meta.end(), origin, ": metadata '", key, "' is missing");
    return it->second;
  };
  auto get_int = [&](const std::string& key, int64_t low, int64_t high) {
    int64_t v = 0;
    MBRLHPO_CHECK(ParseInt(get(key), low, high, &v), origin, ": metadata '", key, "' = '", get(key),
                  "'; expected an integer in [", low, ", ", high, "]");
    return v;
  };
  auto get_double = [&](const std::string& key) {
    double v = 0;
    MBRLHPO_CHECK(ParseDouble(get(key), &v), origin, ": metadata '", key, "' = '", get(key),
                  "'; expected a finite number");
    return v;
  };

  // Identity first (the "magic"), then integrity, then contents.
  auto format = meta.find("format");
  MBRLHPO_CHECK(format != meta.end(), origin,
                ": not an mbrlhpo policy file (no 'format' in "
                "its metadata; expected '",
                kModelFileFormat, "')");
  MBRLHPO_CHECK(format->second == kModelFileFormat, origin,
                ": not an mbrlhpo policy file (format '", format->second, "', expected '",
                kModelFileFormat, "')");
  auto version = meta.find("format_version");
  MBRLHPO_CHECK(version != meta.end(), origin, ": metadata 'format_version' is missing");
  MBRLHPO_CHECK(version->second == std::to_string(kModelFileVersion), origin,
                ": policy format version '", version->second, "' is not supported: this mbrlhpo (",
                GetBuildInfo().version, ") reads version ", kModelFileVersion,
                " (re-export the agent with this version)");
  const std::string& expected_sum = get("sha256");
  const std::string actual_sum = ModelFileChecksum(file_);
  MBRLHPO_CHECK(expected_sum == actual_sum, origin,
                ": checksum mismatch (the file is corrupt): metadata says sha256 ", expected_sum,
                ", the contents hash to ", actual_sum);

  task_ = &FindPlannerTask(get("task"));
  const int o = task_->obs_dim, a = task_->act_dim;
  const int d = task_->model_input_dim + a;
  MBRLHPO_CHECK(get_int("obs_dim", 1, 1 << 20) == o && get_int("act_dim", 1, 1 << 20) == a &&
                    get_int("input_dim", 1, 1 << 20) == d,
                origin, ": dims obs_dim ", get("obs_dim"), ", act_dim ", get("act_dim"),
                ", input_dim ", get("input_dim"), " do not match task '", task_->name,
                "' (expected ", o, ", ", a, ", ", d, ")");
  ensemble_size_ = static_cast<int>(get_int("ensemble_size", 1, 4096));
  const int num_layers = static_cast<int>(get_int("num_layers", 2, 64));
  {
    const std::string& s = get("layer_sizes");
    size_t start = 0;
    while (start <= s.size() && layer_sizes_.size() <= 65) {
      const size_t comma = std::min(s.find(',', start), s.size());
      int64_t v = 0;
      MBRLHPO_CHECK(ParseInt(s.substr(start, comma - start), 1, 1 << 20, &v), origin,
                    ": metadata 'layer_sizes' = '", s,
                    "'; expected comma-separated positive integers");
      layer_sizes_.push_back(static_cast<int>(v));
      start = comma + 1;
    }
  }
  MBRLHPO_CHECK(static_cast<int>(layer_sizes_.size()) == num_layers + 1, origin,
                ": metadata 'layer_sizes' has ", layer_sizes_.size(), " entries, expected ",
                num_layers + 1, " for ", num_layers, " layers");
  MBRLHPO_CHECK(layer_sizes_.front() == d && layer_sizes_.back() == 2 * o, origin, ": layer sizes ",
                get("layer_sizes"), " do not fit task '", task_->name, "': expected input width ",
                d, " and output width ", 2 * o);

  cem_.horizon = static_cast<int>(get_int("cem.horizon", 1, 1 << 20));
  cem_.population = static_cast<int>(get_int("cem.population", 1, 1 << 24));
  cem_.num_elites = static_cast<int>(get_int("cem.num_elites", 1, 1 << 24));
  cem_.iterations = static_cast<int>(get_int("cem.iterations", 1, 1 << 20));
  cem_.particles = static_cast<int>(get_int("cem.particles", 1, 1 << 20));
  const double alpha = get_double("cem.alpha");
  MBRLHPO_CHECK(alpha >= 0.0 && alpha < 1.0, origin, ": metadata 'cem.alpha' = ", alpha,
                "; expected a number in [0, 1)");
  cem_.alpha = static_cast<float>(alpha);
  get_double("cem.elite_ratio");
  cem_.Validate(ensemble_size_);
  // Legal-looking but huge CEM settings must fail here, not later in std::bad_alloc. The
  // estimate: every sample's particles carry a state and two activations of the widest layer,
  // and every sample an action sequence (plus the CEM mean and variance).
  const double widest = *std::max_element(layer_sizes_.begin(), layer_sizes_.end());
  const double planner_bytes =
      sizeof(float) *
      (static_cast<double>(cem_.population) * cem_.particles * (2.0 * widest + 2.0 * o + a) +
       (static_cast<double>(cem_.population) + 2.0) * cem_.horizon * a);
  MBRLHPO_CHECK(planner_bytes <= static_cast<double>(kMaxPlannerBytes), origin,
                ": CEM settings (population ", cem_.population, ", particles ", cem_.particles,
                ", horizon ", cem_.horizon, ") need about ",
                static_cast<uint64_t>(std::ceil(planner_bytes / (1 << 30))),
                " GiB of planner memory; expected at most ", kMaxPlannerBytes >> 30, " GiB");
  MBRLHPO_CHECK(ParseUint64(get("seed"), &seed_), origin, ": metadata 'seed' = '", get("seed"),
                "'; expected an integer in [0, 2^64)");
  get("mjcf");
  get("mbrlhpo_version");

  // Tensors: exactly the expected names, F32, expected shapes, finite values.
  std::map<std::string, std::vector<int64_t>> expected;
  const int64_t e = ensemble_size_;
  for (int l = 0; l < num_layers; ++l) {
    expected["layer" + std::to_string(l) + ".weight"] = {e, layer_sizes_[l], layer_sizes_[l + 1]};
    expected["layer" + std::to_string(l) + ".bias"] = {e, 1, layer_sizes_[l + 1]};
  }
  expected["max_logvar"] = {1, o};
  expected["min_logvar"] = {1, o};
  expected["input_mean"] = {1, d};
  expected["input_std"] = {1, d};
  expected["action_low"] = {a};
  expected["action_high"] = {a};
  for (const auto& [name, t] : file_.tensors) {
    MBRLHPO_CHECK(expected.count(name) == 1, origin, ": unexpected tensor '", name, "'");
  }
  auto floats = [&](const std::string& name) {
    auto it = file_.tensors.find(name);
    MBRLHPO_CHECK(it != file_.tensors.end(), origin, ": tensor '", name, "' is missing");
    const SafetensorsTensor& t = it->second;
    MBRLHPO_CHECK(t.dtype == "F32", origin, ": expected tensor '", name, "' of dtype F32, got ",
                  t.dtype);
    MBRLHPO_CHECK(t.shape == expected[name], origin, ": expected tensor '", name, "' of shape ",
                  ShapeString(expected[name]), ", got ", ShapeString(t.shape));
    std::vector<float> v(t.data.size() / sizeof(float));
    if (!v.empty()) std::memcpy(v.data(), t.data.data(), v.size() * sizeof(float));
    for (float x : v) {
      MBRLHPO_CHECK(std::isfinite(x), origin, ": tensor '", name, "' contains NaN or inf");
    }
    return v;
  };
  for (int l = 0; l < num_layers; ++l) {
    weights_.push_back(floats("layer" + std::to_string(l) + ".weight"));
    biases_.push_back(floats("layer" + std::to_string(l) + ".bias"));
  }
  max_logvar_ = floats("max_logvar");
  min_logvar_ = floats("min_logvar");
  input_mean_ = floats("input_mean");
  input_std_ = floats("input_std");
  for (float s : input_std_) {
    MBRLHPO_CHECK(s > 0.0f, origin, ": input_std must be positive, got ", s);
  }
  action_low_ = floats("action_low");
  action_high_ = floats("action_high");
  for (int i = 0; i < a; ++i) {
    MBRLHPO_CHECK(action_low_[i] <= action_high_[i], origin, ": action_low[", i,
                  "] = ", action_low_[i], " > action_high[", i, "] = ", action_high_[i]);
  }
  ensemble_view().Validate();
}

EnsembleView ModelFile::ensemble_view() const {
  EnsembleView v;
  v.ensemble_size = ensemble_size_;
  v.layer_sizes = layer_sizes_;
  for (const auto& w : weights_) v.weights.push_back(w.data());
  for (const auto& b : biases_) v.biases.push_back(b.data());
  v.max_logvar = max_logvar_.data();
  v.min_logvar = min_logvar_.data();
  v.input_mean = input_mean_.data();
  v.input_std = input_std_.data();
  return v;
}

// ------------------------------------------------------------------------------------ planner
FilePlanner::FilePlanner(std::shared_ptr<const ModelFile> file, uint64_t seed, int num_threads)
    : file_(std::move(file)), seed_(seed), engine_(num_threads) {
  MBRLHPO_CHECK(file_ != nullptr, "FilePlanner needs a model file, got null");
  net_ = file_->ensemble_view();
  const int a = act_dim();
  mid_.resize(a);
  for (int i = 0; i < a; ++i) mid_[i] = (file_->action_low()[i] + file_->action_high()[i]) / 2.0f;
  out_mean_.resize(static_cast<size_t>(horizon()) * a);
  Reset();
}

void FilePlanner::Reset() {
  const int a = act_dim();
  warm_start_.resize(static_cast<size_t>(horizon()) * a);
  for (int h = 0; h < horizon(); ++h) {
    std::copy(mid_.begin(), mid_.end(), warm_start_.begin() + static_cast<size_t>(h) * a);
  }
}

void FilePlanner::set_warm_start(const std::vector<float>& mean) {
  MBRLHPO_CHECK(mean.size() == warm_start_.size(), "expected a warm start of ", horizon(), " x ",
                act_dim(), " = ", warm_start_.size(), " values, got ", mean.size());
  for (float x : mean) MBRLHPO_CHECK(std::isfinite(x), "warm start contains NaN or inf");
  warm_start_ = mean;
}

void FilePlanner::Act(const float* obs, float* action) {
  const int o = obs_dim(), a = act_dim(), h = horizon();
  for (int i = 0; i < o; ++i) {
    MBRLHPO_CHECK(std::isfinite(obs[i]), "obs contains NaN or inf (obs[", i, "] = ", obs[i], ")");
  }
  std::vector<CemMember> members(1);
  CemMember& m = members[0];
  m.task = &file_->task();
  m.net = net_;
  m.cem = file_->cem();
  m.seed = seed_;
  m.step = step_;
  m.obs = obs;
  m.init_mean = warm_start_.data();
  m.action_low = file_->action_low().data();
  m.action_high = file_->action_high().data();
  m.out_mean = out_mean_.data();
  engine_.Plan(members);
  for (int i = 0; i < a; ++i) {
    action[i] = std::min(std::max(out_mean_[i], file_->action_low()[i]), file_->action_high()[i]);
  }
  std::copy(out_mean_.begin() + a, out_mean_.end(), warm_start_.begin());
  std::copy(mid_.begin(), mid_.end(), warm_start_.begin() + static_cast<size_t>(h - 1) * a);
  ++step_;
}

std::unique_ptr<FilePlanner> LoadPlanner(const std::string& path, uint64_t seed, int num_threads) {
  auto file = std::make_shared<const ModelFile>(ModelFile::Load(path));
  return std::make_unique<FilePlanner>(std::move(file), seed, num_threads);
}

}  // namespace mbrlhpo
