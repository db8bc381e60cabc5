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

void ModelFile::Validate(const std::string& origin) {
  const auto& meta = file_.metadata;
  auto get = [&](const std::string& key) -> const std::string& {
    auto it = meta.find(key);
    MBRLHPO_CHECK(it != meta.end(), origin, ": metadata '", key, "' is missing");
    return it->second;
  };
  auto get_int = [&](const std::string& key, int64_t low, int64_t high) {
    int64_t v = 0;
    MBRLHPO_CHECK(ParseInt(get(key), low, high, &v), origin, ": metadata '", key, "' = '", get(key),
                  "'; expected an integer in [", low, ", ", high, "]");
    return v;
  };
  auto get_double = [&](const std::string& key) {
    double v = 0;
    MBRLHPO_CHECK(ParseDouble(get(key), &v), origin, ": metadata '", key, "' = '", get(key),
                  "'; expected a finite number");
    return v;
  };

  // Identity first (the "magic"), then integrity, then contents.
  auto format = meta.find("format");
  MBRLHPO_CHECK(format != meta.end(), origin,
                ": not an mbrlhpo policy file (no 'format' in "
                "its metadata; expected '",
                kModelFileFormat, "')");
  MBRLHPO_CHECK(format->second == kModelFileFormat, origin,
                ": not an mbrlhpo policy file (format '", format->second, "', expected '",
                kModelFileFormat, "')");
  auto version = meta.find("format_version");
  MBRLHPO_CHECK(version != meta.end(), origin, ": metadata 'format_version' is missing");
  MBRLHPO_CHECK(version->second == std::to_string(kModelFileVersion), origin,
                ": policy format version '", version->second, "' is not supported: this mbrlhpo (",
                GetBuildInfo().version, ") reads version ", kModelFileVersion,
                " (re-export the agent with this version)");
  const std::string& expected_sum = get("sha256");
  const std::string actual_sum = ModelFileChecksum(file_);
  MBRLHPO_CHECK(expected_sum == actual_sum, origin,
                ": checksum mismatch (the file is corrupt): metadata says sha256 ", expected_sum,
                ", the contents hash to ", actual_sum);

  task_ = &FindPlannerTask(get("task"));
  const int o = task_->obs_dim, a = task_->act_dim;
  const int d = task_->model_input_dim + a;
  MBRLHPO_CHECK(get_int("obs_dim", 1, 1 << 20) == o && get_int("act_dim", 1, 1 << 20) == a &&
                    get_int("input_dim", 1, 1 << 20) == d,
                origin, ": dims obs_dim ", get("obs_dim"), ", act_dim ", get("act_dim"),
                ", input_dim ", get("input_dim"), " do not match task '", task_->name,
                "' (expected ", o, ", ", a, ", ", d, ")");
  ensemble_size_ = static_cast<int>(get_int("ensemble_size", 1, 4096));
  const int num_layers = static_cast<int>(get_int("num_layers", 2, 64));
  {
    const std::string& s = get("layer_sizes");
    size_t start = 0;
    while (start <= s.size() && layer_sizes_.size() <= 65) {
      const size_t comma = std::min(s.find(',', start), s.size());
      int64_t v = 0;
      MBRLHPO_CHECK(ParseInt(s.substr(start, comma - start), 1, 1 << 20, &v), origin,
                    ": metadata 'layer_sizes' = '", s,
                    "'; expected comma-separated positive integers");
      layer_sizes_.push_back(static_cast<int>(v));
      start = comma + 1;
    }
  }
  MBRLHPO_CHECK(static_cast<int>(layer_sizes_.size()) == num_layers + 1, origin,
                ": metadata 'layer_sizes' has ", layer_sizes_.size(), " entries, expected ",
                num_layers + 1, " for ", num_layers, " layers");
  MBRLHPO_CHECK(layer_sizes_.front() == d && layer_sizes_.back() == 2 * o, origin, ": layer sizes ",
                get("layer_sizes"), " do not fit task '", task_->name, "': expected input width ",
                d, " and output width ", 2 * o);

  cem_.horizon = static_cast<int>(get_int("cem.horizon", 1, 1 << 20));
  cem_.population = static_cast<int>(get_int("cem.population", 1, 1 << 24));
  cem_.num_elites = static_cast<int>(get_int("cem.num_elites", 1, 1 << 24));
  cem_.iterations = static_cast<int>(get_int("cem.iterations", 1, 1 << 20));
  cem_.particles = static_cast<int>(get_int("cem.particles", 1, 1 << 20));
  const double alpha = get_double("cem.alpha");
  MBRLHPO_CHECK(alpha >= 0.0 && alpha < 1.0, origin, ": metadata 'cem.alpha' = ", alpha,
                "; expected a number in [0, 1)");
  cem_.alpha = static_cast<float>(alpha);
  get_double("cem.elite_ratio");
  cem_.Validate(ensemble_size_);
  // Legal-looking but huge CEM settings must fail here, not later in std::bad_alloc. The
  // estimate: every sample's particles carry a state and two activations of the widest layer,
  // and every sample an action sequence (plus the CEM mean and variance).
  const double widest = *std::max_element(layer_sizes_.begin(), layer_sizes_.end());
  const double planner_bytes =
      sizeof(float) *
      (static_cast<double>(cem_.population) * cem_.particles * (2.0 * widest + 2.0 * o + a) +
       (static_cast<double>(cem_.population) + 2.0) * cem_.horizon * a);
  MBRLHPO_CHECK(planner_bytes <= static_cast<double>(kMaxPlannerBytes), origin,
                ": CEM settings (population ", cem_.population, ", particles ", cem_.particles,
                ", horizon ", cem_.horizon, ") need about ",
                static_cast<uint64_t>(std::ceil(planner_bytes / (1 << 30))),
                " GiB of planner memory; expected at most ", kMaxPlannerBytes >> 30, " GiB");
  MBRLHPO_CHECK(ParseUint64(get("seed"), &seed_), origin, ": metadata 'seed' = '", get("seed"),
                "'; expected an integer in [0, 2^64)");
  get("mjcf");
  get("mbrlhpo_version");

  // Tensors: exactly the expected names, F32, expected shapes, finite values.
  std::map<std::string, std::vector<int64_t>> expected;
  const int64_t e = ensemble_size_;
  for (int l = 0; l < num_layers; ++l) {
    expected["layer" + std::to_string(l) + ".weight"] = {e, layer_sizes_[l], layer_sizes_[l + 1]};
    expected["layer" + std::to_string(l) + ".bias"] = {e, 1, layer_sizes_[l + 1]};
  }
  expected["max_logvar"] = {1, o};
  expected["min_logvar"] = {1, o};
  expected["input_mean"] = {1, d};
  expected["input_std"] = {1, d};
  expected["action_low"] = {a};
  expected["action_high"] = {a};
  for (const auto& [name, t] : file_.tensors) {
    MBRLHPO_CHECK(expected.count(name) == 1, origin, ": unexpected tensor '", name, "'");
  }
  auto floats = [&](const std::string& name) {
    auto it = file_.tensors.find(name);
    MBRLHPO_CHECK(it != file_.tensors.end(), origin, ": tensor '", name, "' is missing");
    const SafetensorsTensor& t = it->second;
    MBRLHPO_CHECK(t.dtype == "F32", origin, ": expected tensor '", name, "' of dtype F32, got ",
                  t.dtype);
    MBRLHPO_CHECK(t.shape == expected[name], origin, ": expected tensor '", name, "' of shape ",
                  ShapeString(expected[name]), ", got ", ShapeString(t.shape));
    std::vector<float> v(t.data.size() / sizeof(float));
    if (!v.empty()) std::memcpy(v.data(), t.data.data(), v.size() * sizeof(float));
    for (float x : v) {
      MBRLHPO_CHECK(std::isfinite(x), origin, ": tensor '", name, "' contains NaN or inf");
    }
    return v;
  };
  for (int l = 0; l < num_layers; ++l) {
    weights_.push_back(floats("layer" + std::to_string(l) + ".weight"));
    biases_.push_back(floats("layer" + std::to_string(l) + ".bias"));
  }
  max_logvar_ = floats("max_logvar");
  min_logvar_ = floats("min_logvar");
  input_mean_ = floats("input_mean");
  input_std_ = floats("input_std");
  for (float s : input_std_) {
    MBRLHPO_CHECK(s > 0.0f, origin, ": input_std must be positive, got ", s);
  }
  action_low_ = floats("action_low");
  action_high_ = floats("action_high");
  for (int i = 0; i < a; ++i) {
    MBRLHPO_CHECK(action_low_[i] <= action_high_[i], origin, ": action_low[", i,
                  "] = ", action_low_[i], " > action_high[", i, "] = ", action_high_[i]);
  }
  ensemble_view().Validate();
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
