// The model file: a safetensors file (safetensors.cpp) whose metadata and tensors are checked
// against the planner's needs (task, shapes, CEM settings, memory) and its checksum (sha256.h).
#include "mbrlhpo/model_file.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <utility>

#include "mbrlhpo/build_info.h"
#include "mbrlhpo/errors.h"
#include "safetensors.h"
#include "sha256.h"

namespace mbrlhpo {
namespace {

using detail::ShapeString;

bool ParseInt(const std::string& s, int64_t low, int64_t high, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (s.size() == 1) return false;
  }
  if (s[i] == '0' && s.size() > i + 1) return false;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) return false;
    v = v * 10 + (s[i] - '0');
  }
  v = negative ? -v : v;
  if (v < low || v > high) return false;
  *out = v;
  return true;
}

bool ParseUint64(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 20 || (s[0] == '0' && s.size() > 1)) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool ParseDouble(const std::string& s, double* out) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+')) {
      return false;
    }
  }
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno != 0 || !std::isfinite(v)) return false;
  *out = v;
  return true;
}
std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  MBRLHPO_CHECK(in.is_open(), "cannot open model file '", path, "'");
  const std::streamoff size = in.tellg();
  MBRLHPO_CHECK(size >= 0, "cannot read model file '", path, "' (not a regular file?)");
  MBRLHPO_CHECK(static_cast<uint64_t>(size) <= kMaxModelFileBytes, "model file '", path, "' is ",
                size, " bytes; expected at most ", kMaxModelFileBytes);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (size > 0) in.read(reinterpret_cast<char*>(bytes.data()), size);
  MBRLHPO_CHECK(in.good() || (size == 0 && !in.bad()), "cannot read model file '", path,
                "' (not a regular file?)");
  return bytes;
}

// ------------------------------------------------------------------ the checks of a policy file
// The file's metadata, read with the loader's error messages (every one prefixed by `origin`).
struct MetadataReader {
  const std::map<std::string, std::string>& entries;
  const std::string& origin;

  const std::string& Get(const std::string& key) const {
    auto it = entries.find(key);
    MBRLHPO_CHECK(it != entries.end(), origin, ": metadata '", key, "' is missing");
    return it->second;
  }
  int64_t Int(const std::string& key, int64_t low, int64_t high) const {
    int64_t v = 0;
    MBRLHPO_CHECK(ParseInt(Get(key), low, high, &v), origin, ": metadata '", key, "' = '", Get(key),
                  "'; expected an integer in [", low, ", ", high, "]");
    return v;
  }
  double Double(const std::string& key) const {
    double v = 0;
    MBRLHPO_CHECK(ParseDouble(Get(key), &v), origin, ": metadata '", key, "' = '", Get(key),
                  "'; expected a finite number");
    return v;
  }
};

// The "magic": format and format version, before anything else is believed.
void CheckFormat(const MetadataReader& meta) {
  const std::string& origin = meta.origin;
  auto format = meta.entries.find("format");
  MBRLHPO_CHECK(format != meta.entries.end(), origin,
                ": not an mbrlhpo policy file (no 'format' in "
                "its metadata; expected '",
                kModelFileFormat, "')");
  MBRLHPO_CHECK(format->second == kModelFileFormat, origin,
                ": not an mbrlhpo policy file (format '", format->second, "', expected '",
                kModelFileFormat, "')");
  auto version = meta.entries.find("format_version");
  MBRLHPO_CHECK(version != meta.entries.end(), origin, ": metadata 'format_version' is missing");
  MBRLHPO_CHECK(version->second == std::to_string(kModelFileVersion), origin,
                ": policy format version '", version->second, "' is not supported: this mbrlhpo (",
                GetBuildInfo().version, ") reads version ", kModelFileVersion,
                " (re-export the agent with this version)");
}

// Integrity: the stored sha256 against the contents.
void CheckChecksum(const MetadataReader& meta, const SafetensorsFile& file) {
  const std::string& expected_sum = meta.Get("sha256");
  const std::string actual_sum = ModelFileChecksum(file);
  MBRLHPO_CHECK(expected_sum == actual_sum, meta.origin,
                ": checksum mismatch (the file is corrupt): metadata says sha256 ", expected_sum,
                ", the contents hash to ", actual_sum);
}

// The planner task the file names, with the dims the file states for it.
const PlannerTask& ReadTask(const MetadataReader& meta) {
  const PlannerTask& task = FindPlannerTask(meta.Get("task"));
  const int o = task.obs_dim, a = task.act_dim;
  const int d = task.model_input_dim + a;
  MBRLHPO_CHECK(meta.Int("obs_dim", 1, 1 << 20) == o && meta.Int("act_dim", 1, 1 << 20) == a &&
                    meta.Int("input_dim", 1, 1 << 20) == d,
                meta.origin, ": dims obs_dim ", meta.Get("obs_dim"), ", act_dim ",
                meta.Get("act_dim"), ", input_dim ", meta.Get("input_dim"), " do not match task '",
                task.name, "' (expected ", o, ", ", a, ", ", d, ")");
  return task;
}

// num_layers + 1 widths ("D,h,...,2O"), from the task's model input to its mean and log-variance.
std::vector<int> ReadLayerSizes(const MetadataReader& meta, const PlannerTask& task) {
  const int num_layers = static_cast<int>(meta.Int("num_layers", 2, 64));
  const std::string& s = meta.Get("layer_sizes");
  std::vector<int> sizes;
  size_t start = 0;
  while (start <= s.size() && sizes.size() <= 65) {
    const size_t comma = std::min(s.find(',', start), s.size());
    int64_t v = 0;
    MBRLHPO_CHECK(ParseInt(s.substr(start, comma - start), 1, 1 << 20, &v), meta.origin,
                  ": metadata 'layer_sizes' = '", s,
                  "'; expected comma-separated positive integers");
    sizes.push_back(static_cast<int>(v));
    start = comma + 1;
  }
  MBRLHPO_CHECK(static_cast<int>(sizes.size()) == num_layers + 1, meta.origin,
                ": metadata 'layer_sizes' has ", sizes.size(), " entries, expected ",
                num_layers + 1, " for ", num_layers, " layers");
  const int d = task.model_input_dim + task.act_dim, o = task.obs_dim;
  MBRLHPO_CHECK(sizes.front() == d && sizes.back() == 2 * o, meta.origin, ": layer sizes ", s,
                " do not fit task '", task.name, "': expected input width ", d,
                " and output width ", 2 * o);
  return sizes;
}

CemSettings ReadCemSettings(const MetadataReader& meta, int ensemble_size) {
  CemSettings cem;
  cem.horizon = static_cast<int>(meta.Int("cem.horizon", 1, 1 << 20));
  cem.population = static_cast<int>(meta.Int("cem.population", 1, 1 << 24));
  cem.num_elites = static_cast<int>(meta.Int("cem.num_elites", 1, 1 << 24));
  cem.iterations = static_cast<int>(meta.Int("cem.iterations", 1, 1 << 20));
  cem.particles = static_cast<int>(meta.Int("cem.particles", 1, 1 << 20));
  const double alpha = meta.Double("cem.alpha");
  MBRLHPO_CHECK(alpha >= 0.0 && alpha < 1.0, meta.origin, ": metadata 'cem.alpha' = ", alpha,
                "; expected a number in [0, 1)");
  cem.alpha = static_cast<float>(alpha);
  meta.Double("cem.elite_ratio");
  cem.Validate(ensemble_size);
  return cem;
}

// Legal-looking but huge CEM settings must fail here, not later in std::bad_alloc. The
// estimate: every sample's particles carry a state and two activations of the widest layer, and
// every sample an action sequence (plus the CEM mean and variance).
void CheckPlannerMemory(const std::string& origin, const CemSettings& cem,
                        const std::vector<int>& layer_sizes, const PlannerTask& task) {
  const int o = task.obs_dim, a = task.act_dim;
  const double widest = *std::max_element(layer_sizes.begin(), layer_sizes.end());
  const double planner_bytes =
      sizeof(float) *
      (static_cast<double>(cem.population) * cem.particles * (2.0 * widest + 2.0 * o + a) +
       (static_cast<double>(cem.population) + 2.0) * cem.horizon * a);
  MBRLHPO_CHECK(planner_bytes <= static_cast<double>(kMaxPlannerBytes), origin,
                ": CEM settings (population ", cem.population, ", particles ", cem.particles,
                ", horizon ", cem.horizon, ") need about ",
                static_cast<uint64_t>(std::ceil(planner_bytes / (1 << 30))),
                " GiB of planner memory; expected at most ", kMaxPlannerBytes >> 30, " GiB");
}

uint64_t ReadSeed(const MetadataReader& meta) {
  uint64_t seed = 0;
  MBRLHPO_CHECK(ParseUint64(meta.Get("seed"), &seed), meta.origin, ": metadata 'seed' = '",
                meta.Get("seed"), "'; expected an integer in [0, 2^64)");
  return seed;
}

// The shape of every tensor a policy with these task, ensemble and layers holds (by name).
std::map<std::string, std::vector<int64_t>> ExpectedShapes(const PlannerTask& task,
                                                           int ensemble_size,
                                                           const std::vector<int>& layer_sizes) {
  const int64_t e = ensemble_size, o = task.obs_dim, a = task.act_dim;
  const int64_t d = layer_sizes.front();
  std::map<std::string, std::vector<int64_t>> expected;
  for (size_t l = 0; l + 1 < layer_sizes.size(); ++l) {
    expected["layer" + std::to_string(l) + ".weight"] = {e, layer_sizes[l], layer_sizes[l + 1]};
    expected["layer" + std::to_string(l) + ".bias"] = {e, 1, layer_sizes[l + 1]};
  }
  expected["max_logvar"] = {1, o};
  expected["min_logvar"] = {1, o};
  expected["input_mean"] = {1, d};
  expected["input_std"] = {1, d};
  expected["action_low"] = {a};
  expected["action_high"] = {a};
  return expected;
}

// The file's tensors against the expected names and shapes: a name not expected fails on
// construction; Floats(name) checks one tensor and copies its values out.
class TensorReader {
 public:
  TensorReader(const std::map<std::string, SafetensorsTensor>& tensors,
               std::map<std::string, std::vector<int64_t>> expected, const std::string& origin)
      : tensors_(tensors), expected_(std::move(expected)), origin_(origin) {
    for (const auto& [name, t] : tensors_) {
      MBRLHPO_CHECK(expected_.count(name) == 1, origin_, ": unexpected tensor '", name, "'");
    }
  }

  // F32, the expected shape, every value finite.
  std::vector<float> Floats(const std::string& name) const {
    auto it = tensors_.find(name);
    MBRLHPO_CHECK(it != tensors_.end(), origin_, ": tensor '", name, "' is missing");
    const SafetensorsTensor& t = it->second;
    const std::vector<int64_t>& shape = expected_.at(name);
    MBRLHPO_CHECK(t.dtype == "F32", origin_, ": expected tensor '", name, "' of dtype F32, got ",
                  t.dtype);
    MBRLHPO_CHECK(t.shape == shape, origin_, ": expected tensor '", name, "' of shape ",
                  ShapeString(shape), ", got ", ShapeString(t.shape));
    std::vector<float> v(t.data.size() / sizeof(float));
    if (!v.empty()) std::memcpy(v.data(), t.data.data(), v.size() * sizeof(float));
    for (float x : v) {
      MBRLHPO_CHECK(std::isfinite(x), origin_, ": tensor '", name, "' contains NaN or inf");
    }
    return v;
  }

 private:
  const std::map<std::string, SafetensorsTensor>& tensors_;
  const std::map<std::string, std::vector<int64_t>> expected_;
  const std::string& origin_;
};

}  // namespace

std::string ModelFileChecksum(const SafetensorsFile& file) {
  detail::Sha256 h;
  const char nul = '\0';
  for (const auto& [name, t] : file.tensors) {
    std::string shape;
    for (size_t i = 0; i < t.shape.size(); ++i) {
      shape += (i ? "," : "") + std::to_string(t.shape[i]);
    }
    h.Update("T", 1);
    h.Update(name);
    h.Update(&nul, 1);
    h.Update(t.dtype);
    h.Update(&nul, 1);
    h.Update(shape);
    h.Update(&nul, 1);
    h.Update(t.data.data(), t.data.size());
  }
  for (const auto& [key, value] : file.metadata) {
    if (key == "sha256") continue;
    h.Update("M", 1);
    h.Update(key);
    h.Update(&nul, 1);
    h.Update(value);
    h.Update(&nul, 1);
  }
  return h.HexDigest();
}

// ------------------------------------------------------------------------------------ ModelFile
ModelFile ModelFile::Load(const std::string& path) {
  const std::vector<uint8_t> bytes = ReadFile(path);
  return FromBytes(bytes.data(), bytes.size(), "model file '" + path + "'");
}

ModelFile ModelFile::FromBytes(const uint8_t* data, size_t size, const std::string& origin) {
  ModelFile m;
  m.file_ = ParseSafetensors(data, size, origin);
  m.Validate(origin);
  return m;
}

const std::string& ModelFile::mjcf() const { return file_.metadata.at("mjcf"); }
const std::string& ModelFile::sha256() const { return file_.metadata.at("sha256"); }

// Identity first (the "magic"), then integrity, then contents; each step reads what the earlier
// ones proved. The first failing check names the problem (mbrlhpo::Error, prefixed by origin).
void ModelFile::Validate(const std::string& origin) {
  const MetadataReader meta{file_.metadata, origin};
  CheckFormat(meta);
  CheckChecksum(meta, file_);
  task_ = &ReadTask(meta);
  ensemble_size_ = static_cast<int>(meta.Int("ensemble_size", 1, 4096));
  layer_sizes_ = ReadLayerSizes(meta, *task_);
  cem_ = ReadCemSettings(meta, ensemble_size_);
  CheckPlannerMemory(origin, cem_, layer_sizes_, *task_);
  seed_ = ReadSeed(meta);
  meta.Get("mjcf");
  meta.Get("mbrlhpo_version");
  ReadTensors(origin);
  ensemble_view().Validate();
}

// Exactly the expected tensor names, each F32 of its expected shape with finite values; a
// positive input_std and action_low <= action_high.
void ModelFile::ReadTensors(const std::string& origin) {
  const TensorReader tensors{file_.tensors, ExpectedShapes(*task_, ensemble_size_, layer_sizes_),
                             origin};
  for (size_t l = 0; l + 1 < layer_sizes_.size(); ++l) {
    weights_.push_back(tensors.Floats("layer" + std::to_string(l) + ".weight"));
    biases_.push_back(tensors.Floats("layer" + std::to_string(l) + ".bias"));
  }
  max_logvar_ = tensors.Floats("max_logvar");
  min_logvar_ = tensors.Floats("min_logvar");
  input_mean_ = tensors.Floats("input_mean");
  input_std_ = tensors.Floats("input_std");
  for (float s : input_std_) {
    MBRLHPO_CHECK(s > 0.0f, origin, ": input_std must be positive, got ", s);
  }
  action_low_ = tensors.Floats("action_low");
  action_high_ = tensors.Floats("action_high");
  for (size_t i = 0; i < action_low_.size(); ++i) {
    MBRLHPO_CHECK(action_low_[i] <= action_high_[i], origin, ": action_low[", i,
                  "] = ", action_low_[i], " > action_high[", i, "] = ", action_high_[i]);
  }
}

EnsembleView ModelFile::ensemble_view() const {
  EnsembleView v;
  v.ensemble_size = ensemble_size_;
  v.layer_sizes = layer_sizes_;
  for (const auto& w : weights_) v.weights.push_back(w.data());
  for (const auto& b : biases_) v.biases.push_back(b.data());
  v.max_logvar = max_logvar_.data();
  v.min_logvar = min_logvar_.data();
  v.input_mean = input_mean_.data();
  v.input_std = input_std_.data();
  return v;
}

}  // namespace mbrlhpo
