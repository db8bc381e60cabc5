// The CUDA backend links and runs a kernel; exits 77 (skipped) where there is no device.
#include <cstdio>

#include "check.h"
#include "mbrlhpo/cuda/device.h"

TEST(SelfTestOnEveryDevice) {
  for (int d = 0; d < mbrlhpo::cuda::DeviceCount(); ++d) {
    std::printf("  %s\n", mbrlhpo::cuda::DeviceDescription(d).c_str());
    mbrlhpo::cuda::SelfTest(d);
  }
  CHECK_THROWS(mbrlhpo::cuda::DeviceDescription(-1));
}

int main() {
  if (mbrlhpo::cuda::DeviceCount() == 0) {
    std::printf("no CUDA device: skipped\n");
    return 77;
  }
  return ::mbrlhpo_test::RunAll();
}
