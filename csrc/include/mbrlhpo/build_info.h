// What this build of the core is: version, options, and the MuJoCo/BLAS it runs against.
#pragma once

#include <string>

#include "mbrlhpo/export.h"

namespace mbrlhpo {

struct BuildInfo {
  std::string version;             // mbrlhpo version
  bool has_cuda = false;           // CUDA backend compiled in (a device may still be absent)
  std::string blas;                // BLAS the core links
  std::string blas_config;         // the BLAS's own description (kernel, threads)
  int mujoco_header_version = 0;   // mjVERSION_HEADER the core was compiled with
  int mujoco_library_version = 0;  // mj_version() of the library loaded at run time
  std::string mujoco_version_string;
  std::string build_type;
  std::string compiler;
};

MBRLHPO_API BuildInfo GetBuildInfo();

// Throws mbrlhpo::Error unless the loaded MuJoCo library is the version the core was built for.
MBRLHPO_API void CheckMuJoCoVersion();

}  // namespace mbrlhpo
