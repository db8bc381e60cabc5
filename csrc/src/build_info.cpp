#include "mbrlhpo/build_info.h"

#include <mujoco/mujoco.h>

#include "blas.h"
#include "mbrlhpo/build_config.h"
#include "mbrlhpo/errors.h"

namespace mbrlhpo {

BuildInfo GetBuildInfo() {
  BuildInfo info;
  info.version = MBRLHPO_VERSION_STRING;
  info.has_cuda = MBRLHPO_HAS_CUDA != 0;
  info.blas = MBRLHPO_BLAS_NAME;
  info.blas_config = blas::Config();
  info.mujoco_header_version = mjVERSION_HEADER;
  info.mujoco_library_version = mj_version();
  info.mujoco_version_string = mj_versionString();
  info.build_type = MBRLHPO_BUILD_TYPE;
  info.compiler = MBRLHPO_CXX_COMPILER;
  return info;
}

void CheckMuJoCoVersion() {
  const int loaded = mj_version();
  MBRLHPO_CHECK(loaded == mjVERSION_HEADER, "mbrlhpo was built against MuJoCo ", mjVERSION_HEADER,
                " but the loaded library is ", loaded, " (", mj_versionString(),
                "); install the matching wheel: pip install mujoco==4.0.0");
}

}  // namespace mbrlhpo
