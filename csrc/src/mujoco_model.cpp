#include "mujoco_model.h"

#include <array>

#include "mbrlhpo/errors.h"

namespace mbrlhpo {

MjModelPtr LoadModelFromXmlFile(const std::string& path) {
  std::array<char, 1024> error{};
  mjModel* model = mj_loadXML(path.c_str(), nullptr, error.data(), static_cast<int>(error.size()));
  MBRLHPO_CHECK(model != nullptr, "could not load MuJoCo model '", path, "': ", error.data());
  return MjModelPtr(model);
}

MjModelPtr LoadModelFromXmlString(const std::string& xml) {
  // MuJoCo reads MJCF text through a virtual file system holding one in-memory file.
  mjVFS vfs;
  mj_defaultVFS(&vfs);
  const char* kName = "model.xml";
  const int added = mj_addBufferVFS(&vfs, kName, xml.data(), static_cast<int>(xml.size()));
  std::array<char, 1024> error{};
  mjModel* model =
      added == 0 ? mj_loadXML(kName, &vfs, error.data(), static_cast<int>(error.size())) : nullptr;
  mj_deleteVFS(&vfs);
  MBRLHPO_CHECK(added == 0, "could not buffer MJCF text (mj_addBufferVFS returned ", added, ")");
  MBRLHPO_CHECK(model != nullptr, "could not compile MJCF text: ", error.data());
  return MjModelPtr(model);
}

MjDataPtr MakeData(const mjModel* model) {
  mjData* data = mj_makeData(model);
  MBRLHPO_CHECK(data != nullptr, "mj_makeData failed (out of memory?)");
  return MjDataPtr(data);
}

}  // namespace mbrlhpo
