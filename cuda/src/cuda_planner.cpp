// The CUDA planner's driver: validation, one arena of kernel-visible buffers per population
// shape, the per-plan copies, and the launch sequence (through the Launcher). Plain C++: no CUDA
// header, so the same file runs on the GPU (module) and on the host launcher (ctest).
#include "mbrlhpo/cuda/cuda_planner.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>

#include "mbrlhpo/cuda/plan_kernels.h"
#include "mbrlhpo/errors.h"

namespace mbrlhpo::cuda {
namespace {

struct TaskEntry {
  const char* name;
  TaskId id;
};

// The built-in list (mbrlhpo/tasks/builtin.h) and the planner's two test tasks.
#define MBRLHPO_TASK_ENTRY(Type) {tasks::Type::kName, TaskId::k##Type},
constexpr TaskEntry kTasks[] = {
    MBRLHPO_BUILTIN_TASKS(MBRLHPO_TASK_ENTRY){"test_linear", TaskId::kTestLinear},
    {"test_pendulum", TaskId::kTestPendulum},
};
#undef MBRLHPO_TASK_ENTRY

std::optional<TaskId> FindTask(const std::string& name) {
  for (const TaskEntry& t : kTasks) {
    if (name == t.name) return t.id;
  }
  return std::nullopt;
}

// The kernels' id of a member's task (Validate has checked that there is one).
TaskId TaskIdOf(const PlanProblem& m) { return FindTask(m.task->name).value(); }

// Offsets (in 4-byte words) of one member's buffers inside the arena; sections start on
// 64-byte boundaries (coalesced, aligned vector loads).
struct MemberLayout {
  // input block, copied in at every plan: mean (warm start in, final mean out) | obs | lo | hi
  size_t mean = 0, obs = 0, low = 0, high = 0, input_words = 0;
  size_t var = 0, candidates = 0, row_returns = 0, returns = 0, elites = 0;
  // TF32 members: each layer's packed weights (written by the PackWeights kernel at every plan)
  size_t packed[kMaxLayers] = {};
  // trace block, copied out when traced: returns | elites | means | vars
  size_t trace = 0, trace_returns = 0, trace_elites = 0, trace_means = 0, trace_vars = 0;
  size_t trace_words = 0;
  size_t words = 0;  // total
};

size_t Align16(size_t words) { return (words + 15) / 16 * 16; }

MemberLayout LayoutOf(const PlanProblem& m, Gemm gemm, bool traced) {
  // buffer sizes from the contract (plan_args.h BufferBytes), in 4-byte words
  MemberArgs shape;
  shape.horizon = m.cem.horizon;
  shape.act_dim = m.task->act_dim;
  shape.population = m.cem.population;
  shape.particles = m.cem.particles;
  shape.num_elites = m.cem.num_elites;
  shape.iterations = m.cem.iterations;
  const MemberBufferBytes b = BufferBytes(shape, traced);
  const size_t o = m.task->obs_dim, a = m.task->act_dim;
  MemberLayout l;
  size_t at = 0;
  auto take = [&at](size_t bytes) {
    const size_t begin = at;
    at = Align16(at + bytes / 4);
    return begin;
  };
  // the input block is contiguous (one copy): no padding inside it
  l.mean = 0;
  l.obs = l.mean + b.mean / 4;
  l.low = l.obs + o;
  l.high = l.low + a;
  l.input_words = b.mean / 4 + o + 2 * a;
  at = Align16(l.input_words);
  l.var = take(b.var);
  l.candidates = take(b.candidates);
  l.row_returns = take(b.row_returns);
  l.returns = take(b.returns);
  l.elites = take(b.elites);
  for (int q = 0; gemm == Gemm::kTf32 && q < m.net.num_layers(); ++q) {
    const size_t words = kernels::Tf32Packed::Words(m.net.layer_sizes[q], m.net.layer_sizes[q + 1]);
    l.packed[q] = take(static_cast<size_t>(m.net.ensemble_size) * words * 4);
  }
  if (traced) {  // the trace block is contiguous too (one copy out)
    l.trace = at;
    l.trace_returns = l.trace;
    l.trace_elites = l.trace_returns + b.trace_returns / 4;
    l.trace_means = l.trace_elites + b.trace_elites / 4;
    l.trace_vars = l.trace_means + b.trace_means / 4;
    l.trace_words = (b.trace_returns + b.trace_elites + b.trace_means + b.trace_vars) / 4;
    at = Align16(at + l.trace_words);
  }
  l.words = at;
  return l;
}

// FNV-1a over the values that fix the launch sequence and the buffer sizes.
struct KeyHash {
  uint64_t h = 1469598103934665603ull;
  void Add(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xFFu;
      h *= 1099511628211ull;
    }
  }
};

void Validate(const CudaPlanRequest& cr, size_t index) {
  const PlanProblem& m = cr.request.problem;
  const PlanInputs& in = cr.request.inputs;
  const PlanOutputs& out = cr.request.outputs;
  MBRLHPO_CHECK(m.task != nullptr, "member ", index, ": no task");
  MBRLHPO_CHECK(FindTask(m.task->name).has_value(), "member ", index,
                ": the CUDA planner has no task '", m.task->name, "'");
  m.net.Validate();
  m.cem.Validate(m.net.ensemble_size);
  MBRLHPO_CHECK(m.net.num_layers() <= kMaxLayers, "member ", index, ": expected at most ",
                kMaxLayers, " layers for the CUDA planner, got ", m.net.num_layers());
  MBRLHPO_CHECK(m.net.input_dim() == m.task->model_input_dim + m.task->act_dim, "member ", index,
                ": expected a model input width of ", m.task->model_input_dim + m.task->act_dim,
                " for task '", m.task->name, "', got ", m.net.input_dim());
  MBRLHPO_CHECK(m.net.output_dim() == m.task->obs_dim, "member ", index,
                ": expected a model output of 2 x ", m.task->obs_dim, ", got ",
                m.net.layer_sizes.back());
  MBRLHPO_CHECK(in.obs && in.warm_start && m.action_low && m.action_high && out.mean, "member ",
                index, ": null obs/warm_start/bounds/mean pointer");
  MBRLHPO_CHECK(cr.gemm == Gemm::kTf32 || cr.gemm == Gemm::kFloat32, "member ", index,
                ": expected gemm kTf32 or kFloat32, got ", static_cast<int>(cr.gemm));
  const bool any_trace = out.trace_returns || out.trace_elites || out.trace_means || out.trace_vars;
  const bool all_trace = out.trace_returns && out.trace_elites && out.trace_means && out.trace_vars;
  MBRLHPO_CHECK(any_trace == all_trace, "member ", index,
                ": expected all four trace pointers or none");
}

// The buffers of one population shape and the host staging twin of the arena.
struct PlanArena {
  bool ready = false;
  uint64_t shape_key = 0;
  int64_t num_setups = 0;
  std::vector<MemberLayout> layouts;
  std::vector<size_t> offsets;  // member arena start, in words
  size_t words = 0;
  void* arena = nullptr;               // kernel-visible
  void* staging = nullptr;             // host: the same layout
  MemberArgs* device_args = nullptr;   // kernel-visible array
  MemberArgs* staging_args = nullptr;  // host copy
  int32_t max_iterations = 0;

  void Release(Launcher& l) {
    if (arena) l.Release(arena);
    if (device_args) l.Release(device_args);
    if (staging) l.ReleaseStaging(staging);
    if (staging_args) l.ReleaseStaging(staging_args);
    arena = staging = nullptr;
    device_args = staging_args = nullptr;
    ready = false;
  }
};

}  // namespace

struct CudaPlanner::State : PlanArena {
  std::mutex mutex;
};

CudaPlanner::CudaPlanner(std::unique_ptr<Launcher> launcher)
    : launcher_(std::move(launcher)), state_(std::make_unique<State>()) {
  MBRLHPO_CHECK(launcher_ != nullptr, "CudaPlanner needs a launcher, got null");
}

CudaPlanner::~CudaPlanner() {
  try {
    launcher_->Finish();
  } catch (...) {  // a destructor must not throw; the error was reported by the failed Plan()
  }
  state_->Release(*launcher_);
}

int64_t CudaPlanner::num_setups() const { return state_->num_setups; }

namespace {

// Validates every member; returns the key of what fixes the buffers and the launch sequence.
uint64_t ValidateAndKey(const std::vector<CudaPlanRequest>& requests) {
  KeyHash key;
  key.Add(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const CudaPlanRequest& cr = requests[i];
    Validate(cr, i);
    const PlanProblem& m = cr.request.problem;
    const CemSettings& c = m.cem;
    for (uint64_t v : {static_cast<uint64_t>(TaskIdOf(m)), static_cast<uint64_t>(cr.gemm),
                       static_cast<uint64_t>(m.net.ensemble_size),
                       static_cast<uint64_t>(m.net.num_layers()), static_cast<uint64_t>(c.horizon),
                       static_cast<uint64_t>(c.population), static_cast<uint64_t>(c.num_elites),
                       static_cast<uint64_t>(c.iterations), static_cast<uint64_t>(c.particles),
                       static_cast<uint64_t>(cr.request.outputs.trace_returns != nullptr)}) {
      key.Add(v);
    }
    for (int s : m.net.layer_sizes) key.Add(static_cast<uint64_t>(s));
  }
  return key.h;
}

// A new population shape: one arena (and its host staging twin) laid out member by member.
void SetUp(PlanArena& st, Launcher& launcher, const std::vector<CudaPlanRequest>& requests,
           uint64_t key) {
  launcher.Finish();
  st.Release(launcher);
  st.layouts.clear();
  st.offsets.clear();
  st.words = 0;
  st.max_iterations = 0;
  for (const CudaPlanRequest& cr : requests) {
    const PlanRequest& r = cr.request;
    st.layouts.push_back(LayoutOf(r.problem, cr.gemm, r.outputs.trace_returns != nullptr));
    st.offsets.push_back(st.words);
    st.words += st.layouts.back().words;
    st.max_iterations = std::max(st.max_iterations, r.problem.cem.iterations);
  }
  const size_t count = requests.size();
  st.arena = launcher.Allocate(st.words * 4);
  st.staging = launcher.AllocateStaging(st.words * 4);
  st.device_args = static_cast<MemberArgs*>(launcher.Allocate(count * sizeof(MemberArgs)));
  st.staging_args = static_cast<MemberArgs*>(launcher.AllocateStaging(count * sizeof(MemberArgs)));
  st.shape_key = key;
  st.ready = true;
  ++st.num_setups;
}

// What the kernels read of one member: shapes, model pointers, settings, its arena buffers.
MemberArgs ArgsOf(const CudaPlanRequest& cr, const MemberLayout& l, float* dev) {
  const PlanProblem& m = cr.request.problem;
  const CemSettings& c = m.cem;
  MemberArgs a{};
  a.task = static_cast<int32_t>(TaskIdOf(m));
  a.gemm = static_cast<int32_t>(cr.gemm);
  a.ensemble_size = m.net.ensemble_size;
  a.num_layers = m.net.num_layers();
  for (int q = 0; q <= a.num_layers; ++q) a.layer_sizes[q] = m.net.layer_sizes[q];
  for (int q = 0; q < a.num_layers; ++q) {
    a.weights[q] = m.net.weights[q];
    a.biases[q] = m.net.biases[q];
  }
  a.max_logvar = m.net.max_logvar;
  a.min_logvar = m.net.min_logvar;
  a.input_mean = m.net.input_mean;
  a.input_std = m.net.input_std;
  a.obs_dim = m.task->obs_dim;
  a.act_dim = m.task->act_dim;
  a.model_input_dim = m.task->model_input_dim;
  a.horizon = c.horizon;
  a.population = c.population;
  a.num_elites = c.num_elites;
  a.iterations = c.iterations;
  a.particles = c.particles;
  a.alpha = c.alpha;
  a.seed = m.seed;
  a.step = cr.request.inputs.step;
  a.mean = dev + l.mean;
  a.obs = dev + l.obs;
  a.action_low = dev + l.low;
  a.action_high = dev + l.high;
  a.var = dev + l.var;
  a.candidates = dev + l.candidates;
  a.row_returns = dev + l.row_returns;
  a.returns = dev + l.returns;
  a.elites = reinterpret_cast<int32_t*>(dev + l.elites);
  for (int q = 0; cr.gemm == Gemm::kTf32 && q < a.num_layers; ++q) {
    a.packed_weights[q] = dev + l.packed[q];
  }
  if (l.trace_words > 0) {
    a.trace_returns = dev + l.trace_returns;
    a.trace_elites = reinterpret_cast<int32_t*>(dev + l.trace_elites);
    a.trace_means = dev + l.trace_means;
    a.trace_vars = dev + l.trace_vars;
  }
  return a;
}

// The member arguments and each member's input block (warm start, obs, bounds), copied in.
void StageInputs(PlanArena& st, Launcher& launcher, const std::vector<CudaPlanRequest>& requests) {
  float* arena = static_cast<float*>(st.arena);
  float* staging = static_cast<float*>(st.staging);
  const size_t count = requests.size();
  for (size_t i = 0; i < count; ++i) {
    const PlanProblem& m = requests[i].request.problem;
    const PlanInputs& in = requests[i].request.inputs;
    const MemberLayout& l = st.layouts[i];
    float* host = staging + st.offsets[i];
    st.staging_args[i] = ArgsOf(requests[i], l, arena + st.offsets[i]);
    // the kernels' own limits (population, widths, layers): one clear line before any launch
    const char* reason = UnsupportedReason(st.staging_args[i]);
    MBRLHPO_CHECK(reason == nullptr, "member ", i,
                  ": the CUDA planner's kernels cannot plan it: ", reason ? reason : "");
    const size_t ha = static_cast<size_t>(m.cem.horizon) * m.task->act_dim;
    std::memcpy(host + l.mean, in.warm_start, ha * 4);
    std::memcpy(host + l.obs, in.obs, static_cast<size_t>(m.task->obs_dim) * 4);
    std::memcpy(host + l.low, m.action_low, static_cast<size_t>(m.task->act_dim) * 4);
    std::memcpy(host + l.high, m.action_high, static_cast<size_t>(m.task->act_dim) * 4);
  }
  launcher.CopyIn(st.device_args, st.staging_args, count * sizeof(MemberArgs));
  for (size_t i = 0; i < count; ++i) {
    launcher.CopyIn(arena + st.offsets[i], staging + st.offsets[i], st.layouts[i].input_words * 4);
  }
}

// PackWeights -> Sample -> I x (Rollout -> RefitAndSample): one graph per shape on the device.
void Launch(const PlanArena& st, Launcher& launcher, size_t count) {
  PlanLaunch launch;
  // unique per set-up: a graph captured for earlier buffers of the same shape is never replayed
  launch.shape_key = st.shape_key ^ static_cast<uint64_t>(st.num_setups) * 0x9E3779B97F4A7C15ull;
  launch.num_members = static_cast<int32_t>(count);
  launch.max_iterations = st.max_iterations;
  launch.members = st.device_args;
  launch.host_members = st.staging_args;
  const int n = static_cast<int>(count), sms = launcher.multiprocessors();
  launch.tf32_tile_rows = kernels::ChooseTileRows(st.staging_args, n, sms, Gemm::kTf32);
  launch.fp32_tile_rows = kernels::ChooseTileRows(st.staging_args, n, sms, Gemm::kFloat32);
  launcher.Run(launch);
}

// The final means (and traces) copied out, then into each member's host outputs.
void ReadResults(PlanArena& st, Launcher& launcher, const std::vector<CudaPlanRequest>& requests) {
  float* arena = static_cast<float*>(st.arena);
  float* staging = static_cast<float*>(st.staging);
  const size_t count = requests.size();
  for (size_t i = 0; i < count; ++i) {
    const MemberLayout& l = st.layouts[i];
    const PlanProblem& m = requests[i].request.problem;
    const size_t ha = static_cast<size_t>(m.cem.horizon) * m.task->act_dim;
    launcher.CopyOut(staging + st.offsets[i] + l.mean, arena + st.offsets[i] + l.mean, ha * 4);
    if (l.trace_words > 0) {
      launcher.CopyOut(staging + st.offsets[i] + l.trace, arena + st.offsets[i] + l.trace,
                       l.trace_words * 4);
    }
  }
  launcher.Finish();
  for (size_t i = 0; i < count; ++i) {
    const PlanProblem& m = requests[i].request.problem;
    const PlanOutputs& out = requests[i].request.outputs;
    const CemSettings& c = m.cem;
    const MemberLayout& l = st.layouts[i];
    const float* host = staging + st.offsets[i];
    const size_t ha = static_cast<size_t>(c.horizon) * m.task->act_dim;
    std::memcpy(out.mean, host + l.mean, ha * 4);
    if (l.trace_words > 0) {
      const size_t it = c.iterations;
      std::memcpy(out.trace_returns, host + l.trace_returns, it * c.population * 4);
      std::memcpy(out.trace_elites, host + l.trace_elites, it * c.num_elites * 4);
      std::memcpy(out.trace_means, host + l.trace_means, it * ha * 4);
      std::memcpy(out.trace_vars, host + l.trace_vars, it * ha * 4);
    }
  }
}

}  // namespace

void CudaPlanner::Plan(const std::vector<CudaPlanRequest>& requests, void* stream) {
  State& st = *state_;
  std::lock_guard<std::mutex> lock(st.mutex);
  MBRLHPO_CHECK(!requests.empty(), "expected at least one member, got 0");
  const uint64_t key = ValidateAndKey(requests);
  launcher_->SetStream(stream);
  if (!st.ready || st.shape_key != key) SetUp(st, *launcher_, requests, key);
  StageInputs(st, *launcher_, requests);
  Launch(st, *launcher_, requests.size());
  ReadResults(st, *launcher_, requests);
}

std::vector<std::string> CudaPlannerTaskNames() {
  std::vector<std::string> names;
  for (const TaskEntry& t : kTasks) names.emplace_back(t.name);
  return names;
}

}  // namespace mbrlhpo::cuda
