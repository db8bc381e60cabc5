// The core links MuJoCo and OpenBLAS, drives a model, and its thread pool is sound.
#include <atomic>
#include <random>
#include <string>
#include <vector>

#include "blas.h"
#include "check.h"
#include "mbrlhpo/build_info.h"
#include "mbrlhpo/errors.h"
#include "mujoco_model.h"
#include "thread_pool.h"

namespace {

constexpr const char* kPendulum = R"(
<mujoco>
  <option timestep="0.01"/>
  <worldbody>
    <body>
      <joint name="hinge" type="hinge" axis="0 1 0"/>
      <geom type="capsule" fromto="0 0 0 0 0 -1" size="0.05" mass="1"/>
    </body>
  </worldbody>
</mujoco>)";

}  // namespace

TEST(MuJoCoVersionMatches) {
  mbrlhpo::CheckMuJoCoVersion();
  const auto info = mbrlhpo::GetBuildInfo();
  CHECK(info.mujoco_header_version == 4000000);
  CHECK(info.mujoco_library_version == info.mujoco_header_version);
  CHECK(info.version == "0.1.0");
}

TEST(LoadsAndStepsAModel) {
  auto model = mbrlhpo::LoadModelFromXmlString(kPendulum);
  auto data = mbrlhpo::MakeData(model.get());
  CHECK(model->nq == 1);
  data->qpos[0] = 0.5;  // displaced pendulum swings back towards 0
  for (int i = 0; i < 10; ++i) mj_step(model.get(), data.get());
  CHECK_NEAR(data->time, 0.1, 1e-12);
  CHECK(data->qpos[0] < 0.5);
  CHECK(data->qvel[0] < 0.0);
}

TEST(BadModelGivesClearError) {
  bool thrown = false;
  try {
    mbrlhpo::LoadModelFromXmlString("<mujoco><worldbody><body><geom type='nope'/></body>");
  } catch (const mbrlhpo::Error& e) {
    thrown = std::string(e.what()).find("could not compile MJCF") != std::string::npos;
  }
  CHECK(thrown);
  CHECK_THROWS(mbrlhpo::LoadModelFromXmlFile("/no/such/model.xml"));
}

TEST(SgemmMatchesNaiveProduct) {
  const int m = 37, n = 29, k = 53;
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::vector<float> a(m * k), b(k * n), c(m * n, 0.5f);
  for (auto& v : a) v = uni(gen);
  for (auto& v : b) v = uni(gen);
  std::vector<float> expected(c);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double acc = 0.0;
      for (int p = 0; p < k; ++p) acc += double(a[i * k + p]) * b[p * n + j];
      expected[i * n + j] = static_cast<float>(2.0 * acc + 0.5 * expected[i * n + j]);
    }
  mbrlhpo::blas::Sgemm(false, false, m, n, k, 2.0f, a.data(), k, b.data(), n, 0.5f, c.data(), n);
  for (int i = 0; i < m * n; ++i) CHECK_NEAR(c[i], expected[i], 1e-4);
}

TEST(ThreadPoolCoversEveryIndexOnce) {
  for (int threads : {1, 2, 3}) {
    mbrlhpo::ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(n);
      pool.ParallelFor(n, [&](int64_t begin, int64_t end, int thread) {
        CHECK(thread >= 0 && thread < threads);
        for (int64_t i = begin; i < end; ++i) hits[i]++;
      });
      for (int64_t i = 0; i < n; ++i) CHECK(hits[i] == 1);
    }
  }
}

TEST(ThreadPoolRethrows) {
  mbrlhpo::ThreadPool pool(2);
  CHECK_THROWS(pool.ParallelFor(10, [](int64_t begin, int64_t, int) {
    if (begin > 0) throw mbrlhpo::Error("boom");
  }));
  int64_t total = 0;  // still usable afterwards
  pool.ParallelFor(1, [&](int64_t b, int64_t e, int) { total += e - b; });
  CHECK(total == 1);
}

TEST_MAIN()
