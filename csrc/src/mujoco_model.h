// Owning handles for MuJoCo models and data, and loading with errors that say what failed.
#pragma once

#include <mujoco/mujoco.h>

#include <memory>
#include <string>

#include "mbrlhpo/export.h"

namespace mbrlhpo {

struct MjModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
struct MjDataDeleter {
  void operator()(mjData* d) const { mj_deleteData(d); }
};
using MjModelPtr = std::unique_ptr<mjModel, MjModelDeleter>;
using MjDataPtr = std::unique_ptr<mjData, MjDataDeleter>;

// Compiles an MJCF file; throws mbrlhpo::Error with MuJoCo's message on failure.
// Exported for the Python module and the C++ tests; not installed.
MBRLHPO_API MjModelPtr LoadModelFromXmlFile(const std::string& path);
// Compiles MJCF text (no includes of other files).
MBRLHPO_API MjModelPtr LoadModelFromXmlString(const std::string& xml);
MBRLHPO_API MjDataPtr MakeData(const mjModel* model);

}  // namespace mbrlhpo
