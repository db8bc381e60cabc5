// CUDA devices as the planner sees them. Host API only: no CUDA headers needed by callers.
#pragma once

#include <string>

namespace mbrlhpo::cuda {

// Number of usable CUDA devices; 0 when there is no driver or no device (never throws).
int DeviceCount();

// "NVIDIA H100 80GB HBM3 (sm_90, 79 GiB)"; throws mbrlhpo::Error for a bad index.
std::string DeviceDescription(int device);

// Runs a small kernel on the device and checks its result: proves that this build's device code
// matches the card (architecture) and the driver. Throws mbrlhpo::Error with CUDA's message.
void SelfTest(int device);

}  // namespace mbrlhpo::cuda
