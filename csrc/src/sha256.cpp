#include "sha256.h"

#include "mbrlhpo/model_file.h"

namespace mbrlhpo {

std::string Sha256Hex(const void* data, size_t size) {
  detail::Sha256 h;
  h.Update(data, size);
  return h.HexDigest();
}

}  // namespace mbrlhpo
