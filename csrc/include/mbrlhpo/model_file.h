// Exported PETS policies ("mbrlhpo-policy" files): a strict safetensors reader, the policy
// loader, and a ready-to-use MPC planner built from a file (no Python needed).
//
// File format (written by src/mbrlhpo/planning/export.py), version 1:
//   safetensors: 8-byte little-endian header size N, N bytes of JSON
//   {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}},
//   then the tensor bytes (little-endian, C order), every byte owned by exactly one tensor.
// Tensors (all F32): layer{i}.weight (E x in_i x out_i), layer{i}.bias (E x 1 x out_i) for
//   i = 0..L-1, max_logvar / min_logvar (1 x O), input_mean / input_std (1 x D),
//   action_low / action_high (A). Nothing else.
// Metadata: format = "mbrlhpo-policy", format_version = "1", mbrlhpo_version, task, obs_dim,
//   act_dim, input_dim (D), ensemble_size, num_layers, layer_sizes ("D,h,...,2O"),
//   cem.horizon, cem.population, cem.elite_ratio, cem.num_elites, cem.iterations, cem.alpha,
//   cem.particles, seed (the planner's seed), mjcf (the task's MJCF text), sha256.
// sha256: lowercase hex SHA-256 of, for each tensor in ascending byte order of names,
//   "T" name 0x00 dtype 0x00 shape ("5,8,200"; "" for a scalar) 0x00 data bytes,
//   then for each metadata key except "sha256" in ascending order, "M" key 0x00 value 0x00.
//   Names, keys and values may not contain NUL, so the encoding is unambiguous.
//
// Every input byte sequence either loads (checksum verified, every shape consistent with the
// task and metadata, every value finite) or throws mbrlhpo::Error saying what was wrong; sizes
// are bounded (header <= 64 MiB, file <= 2 GiB, rank <= 8, <= 4096 tensors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mbrlhpo/cem_planner.h"
#include "mbrlhpo/ensemble_view.h"
#include "mbrlhpo/export.h"
#include "mbrlhpo/planner_task.h"

namespace mbrlhpo {

inline constexpr const char* kModelFileFormat = "mbrlhpo-policy";
inline constexpr int kModelFileVersion = 1;
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = uint64_t{64} << 20;
inline constexpr uint64_t kMaxModelFileBytes = uint64_t{2} << 30;
// The most memory a policy file's CEM settings may ask the planner for (an estimate of its
// working set, see ModelFile's loader); larger settings are refused when the file is read.
inline constexpr uint64_t kMaxPlannerBytes = uint64_t{16} << 30;

// SHA-256 of a byte range, lowercase hex (64 characters).
MBRLHPO_API std::string Sha256Hex(const void* data, size_t size);

// One tensor of a safetensors file (bytes copied out of the file).
struct MBRLHPO_API SafetensorsTensor {
  std::string dtype;           // "F32", "F64", "I32", ... (safetensors names)
  std::vector<int64_t> shape;  // C order
  std::vector<uint8_t> data;   // little-endian element bytes
  int64_t num_elements() const;
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;       // "__metadata__"
  std::map<std::string, SafetensorsTensor> tensors;  // by name
};

// Strictly parses a whole safetensors file held in memory. `origin` names it in error messages.
MBRLHPO_API SafetensorsFile ParseSafetensors(const uint8_t* data, size_t size,
                                             const std::string& origin);

// The checksum defined above, over parsed tensors and metadata ("sha256" itself excluded).
MBRLHPO_API std::string ModelFileChecksum(const SafetensorsFile& file);

// A verified exported policy: the ensemble's weights and normaliser, the task and CEM settings.
class MBRLHPO_API ModelFile {
 public:
  // Reads and verifies `path`; throws mbrlhpo::Error (truncated, corrupted, wrong format or
  // version, inconsistent shapes, unknown task...).
  static ModelFile Load(const std::string& path);
  // The same from bytes in memory.
  static ModelFile FromBytes(const uint8_t* data, size_t size,
                             const std::string& origin = "<memory>");

  const std::map<std::string, std::string>& metadata() const { return file_.metadata; }
  const std::map<std::string, SafetensorsTensor>& tensors() const { return file_.tensors; }
  const std::string& task_name() const { return task_->name; }
  const PlannerTask& task() const { return *task_; }
  int ensemble_size() const { return ensemble_size_; }
  const std::vector<int>& layer_sizes() const { return layer_sizes_; }
  const CemSettings& cem() const { return cem_; }
  uint64_t seed() const { return seed_; }
  const std::string& mjcf() const;
  const std::string& sha256() const;
  const std::vector<float>& action_low() const { return action_low_; }
  const std::vector<float>& action_high() const { return action_high_; }
  // Views into this object's buffers: valid while it lives (and is not moved from).
  EnsembleView ensemble_view() const;

 private:
  ModelFile() = default;
  // The loader's checks, in order (model_file.cpp); throw mbrlhpo::Error naming the problem.
  void Validate(const std::string& origin);
  void ReadTensors(const std::string& origin);

  SafetensorsFile file_;
  const PlannerTask* task_ = nullptr;
  int ensemble_size_ = 0;
  std::vector<int> layer_sizes_;
  CemSettings cem_;
  uint64_t seed_ = 0;
  std::vector<std::vector<float>> weights_, biases_;
  std::vector<float> max_logvar_, min_logvar_, input_mean_, input_std_;
  std::vector<float> action_low_, action_high_;
};

// Model-predictive control with an exported policy, the same algorithm and state as Python's
// mbrlhpo.planning.CEMPlanner: each Act() plans CEM from the warm start with the plan counter
// `step`, returns the clipped first action, shifts the warm start by one step (tail: middle of
// the action range) and increments `step`. For the same file, seed, step, warm start and
// observation the action equals the Python native planner's, whatever the thread count.
class MBRLHPO_API FilePlanner {
 public:
  FilePlanner(std::shared_ptr<const ModelFile> file, uint64_t seed, int num_threads = 0);

  const ModelFile& file() const { return *file_; }
  int obs_dim() const { return file_->task().obs_dim; }
  int act_dim() const { return file_->task().act_dim; }
  int horizon() const { return file_->cem().horizon; }
  uint64_t seed() const { return problem_.seed; }
  uint32_t step() const { return step_; }
  void set_step(uint32_t step) { step_ = step; }
  // (H x A) float32.
  const std::vector<float>& warm_start() const { return warm_start_; }
  void set_warm_start(const std::vector<float>& mean);
  // New episode: the warm start becomes the middle of the action range.
  void Reset();
  // obs (O) finite -> action (A) written to `action`. Throws mbrlhpo::Error on non-finite obs.
  void Act(const float* obs, float* action);

 private:
  std::shared_ptr<const ModelFile> file_;
  PlanProblem problem_;  // the file's task, model, CEM settings and bounds, and the seed
  uint32_t step_ = 0;
  std::vector<float> mid_, warm_start_, out_mean_;
  CemPlanner engine_;
};

// Loads and verifies an exported policy and builds its planner (seed: the CEM noise seed, e.g.
// ModelFile::seed() for the exporting agent's; num_threads <= 0: one per hardware thread).
MBRLHPO_API std::unique_ptr<FilePlanner> LoadPlanner(const std::string& path, uint64_t seed,
                                                     int num_threads = 0);

}  // namespace mbrlhpo
