// The policy file loader without Python: SHA-256 vectors, a file written here loads back
// exactly, every truncation and byte flip is rejected (or loads identical contents), random
// mutations never crash, and the planner built from a file is deterministic across threads.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "mbrlhpo/errors.h"
#include "mbrlhpo/model_file.h"

namespace {

using mbrlhpo::ModelFile;
using mbrlhpo::SafetensorsFile;
using mbrlhpo::SafetensorsTensor;

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Serialises a SafetensorsFile (tensors in name order), header padded to 8 bytes.
std::vector<uint8_t> Serialise(const SafetensorsFile& f) {
  std::string header = "{\"__metadata__\":{";
  bool first = true;
  for (const auto& [k, v] : f.metadata) {
    header += (first ? "" : ",") + JsonString(k) + ":" + JsonString(v);
    first = false;
  }
  header += "}";
  std::vector<uint8_t> payload;
  for (const auto& [name, t] : f.tensors) {
    header += "," + JsonString(name) + ":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); ++i) {
      header += (i ? "," : "") + std::to_string(t.shape[i]);
    }
    header += "],\"data_offsets\":[" + std::to_string(payload.size()) + "," +
              std::to_string(payload.size() + t.data.size()) + "]}";
    payload.insert(payload.end(), t.data.begin(), t.data.end());
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';
  const uint64_t n = header.size();
  std::vector<uint8_t> out(8 + n + payload.size());
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(out.data() + 8, header.data(), n);
  if (!payload.empty()) std::memcpy(out.data() + 8 + n, payload.data(), payload.size());
  return out;
}

SafetensorsTensor Floats(std::vector<int64_t> shape, std::mt19937_64& rng, float scale,
                         float offset = 0.0f) {
  SafetensorsTensor t;
  t.dtype = "F32";
  t.shape = std::move(shape);
  int64_t n = 1;
  for (int64_t d : t.shape) n *= d;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = offset + scale * normal(rng);
  t.data.resize(n * sizeof(float));
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

// A valid cartpole policy: E = 2, hidden 8, 3 layers, small CEM.
SafetensorsFile MakePolicy(uint64_t seed = 11) {
  std::mt19937_64 rng(seed);
  const mbrlhpo::PlannerTask& task = mbrlhpo::FindPlannerTask("cartpole");
  const int o = task.obs_dim, a = task.act_dim, d = task.model_input_dim + a;
  const std::vector<int> sizes = {d, 8, 8, 2 * o};
  SafetensorsFile f;
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    f.tensors["layer" + std::to_string(l) + ".weight"] =
        Floats({2, sizes[l], sizes[l + 1]}, rng, 0.3f);
    f.tensors["layer" + std::to_string(l) + ".bias"] = Floats({2, 1, sizes[l + 1]}, rng, 0.1f);
  }
  f.tensors["max_logvar"] = Floats({1, o}, rng, 0.0f, 0.5f);
  f.tensors["min_logvar"] = Floats({1, o}, rng, 0.0f, -10.0f);
  f.tensors["input_mean"] = Floats({1, d}, rng, 0.5f);
  f.tensors["input_std"] = Floats({1, d}, rng, 0.0f, 1.5f);
  f.tensors["action_low"] = Floats({a}, rng, 0.0f, -1.0f);
  f.tensors["action_high"] = Floats({a}, rng, 0.0f, 1.0f);
  f.metadata = {{"format", mbrlhpo::kModelFileFormat},
                {"format_version", std::to_string(mbrlhpo::kModelFileVersion)},
                {"mbrlhpo_version", "test"},
                {"task", "cartpole"},
                {"obs_dim", std::to_string(o)},
                {"act_dim", std::to_string(a)},
                {"input_dim", std::to_string(d)},
                {"ensemble_size", "2"},
                {"num_layers", "3"},
                {"layer_sizes", std::to_string(d) + ",8,8," + std::to_string(2 * o)},
                {"cem.horizon", "5"},
                {"cem.population", "32"},
                {"cem.elite_ratio", "0.125"},
                {"cem.num_elites", "4"},
                {"cem.iterations", "2"},
                {"cem.alpha", "0.1"},
                {"cem.particles", "4"},
                {"seed", "18446744073709551615"},
                {"mjcf", "<mujoco model=\"x\">\n\t\"quoted\" \\ </mujoco>"}};
  f.metadata["sha256"] = mbrlhpo::ModelFileChecksum(f);
  return f;
}

bool SameContents(const ModelFile& m, const SafetensorsFile& f) {
  if (m.metadata() != f.metadata || m.tensors().size() != f.tensors.size()) return false;
  for (const auto& [name, t] : f.tensors) {
    const auto it = m.tensors().find(name);
    if (it == m.tensors().end() || it->second.dtype != t.dtype || it->second.shape != t.shape ||
        it->second.data != t.data) {
      return false;
    }
  }
  return true;
}

bool Throws(const std::vector<uint8_t>& bytes, const std::string& needle) {
  try {
    ModelFile::FromBytes(bytes.data(), bytes.size());
  } catch (const mbrlhpo::Error& e) {
    if (std::string(e.what()).find(needle) != std::string::npos) return true;
    std::printf("  message '%s' lacks '%s'\n", e.what(), needle.c_str());
    return false;
  }
  return false;
}

// Loads or throws mbrlhpo::Error; a load must give the original contents.
bool LoadsIdenticalOrThrows(const std::vector<uint8_t>& bytes, const SafetensorsFile& original) {
  try {
    ModelFile m = ModelFile::FromBytes(bytes.data(), bytes.size());
    return SameContents(m, original);
  } catch (const mbrlhpo::Error& e) {
    return std::strlen(e.what()) > 0;
  }
}

std::string TempPath(const std::string& name) {
  return std::string(MBRLHPO_TEST_TMPDIR) + "/" + name;
}

void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST(Sha256KnownVectors) {
  CHECK(mbrlhpo::Sha256Hex("", 0) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(mbrlhpo::Sha256Hex("abc", 3) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK(mbrlhpo::Sha256Hex(two_blocks.data(), two_blocks.size()) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  CHECK(mbrlhpo::Sha256Hex(million.data(), million.size()) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(RoundTripThroughAFile) {
  const SafetensorsFile f = MakePolicy();
  const std::string path = TempPath("model_file_round_trip.safetensors");
  WriteFile(path, Serialise(f));
  const ModelFile m = ModelFile::Load(path);
  CHECK(SameContents(m, f));
  CHECK(m.task_name() == "cartpole");
  CHECK(m.ensemble_size() == 2);
  CHECK((m.layer_sizes() == std::vector<int>{6, 8, 8, 8}));
  CHECK(m.cem().horizon == 5 && m.cem().population == 32 && m.cem().num_elites == 4);
  CHECK(m.cem().iterations == 2 && m.cem().particles == 4 && m.cem().alpha == 0.1f);
  CHECK(m.seed() == 18446744073709551615ull);
  CHECK(m.mjcf() == f.metadata.at("mjcf"));
  const mbrlhpo::EnsembleView v = m.ensemble_view();
  CHECK(v.num_layers() == 3);
  CHECK(std::memcmp(v.weights[1], f.tensors.at("layer1.weight").data.data(), 2 * 8 * 8 * 4) == 0);
  CHECK(std::memcmp(v.input_std, f.tensors.at("input_std").data.data(), 6 * 4) == 0);
  CHECK_THROWS(ModelFile::Load(TempPath("no_such_file.safetensors")));
  std::remove(path.c_str());
}

TEST(PlannerFromFileIsDeterministicAcrossThreads) {
  const std::string path = TempPath("model_file_planner.safetensors");
  WriteFile(path, Serialise(MakePolicy()));
  auto p1 = mbrlhpo::LoadPlanner(path, 7, 1);
  auto p3 = mbrlhpo::LoadPlanner(path, 7, 3);
  auto other_seed = mbrlhpo::LoadPlanner(path, 8, 1);
  float obs[4] = {0.1f, -0.3f, 0.2f, 0.05f};
  bool any_different = false;
  for (int step = 0; step < 5; ++step) {
    float a1 = 0, a3 = 0, ao = 0;
    p1->Act(obs, &a1);
    p3->Act(obs, &a3);
    other_seed->Act(obs, &ao);
    CHECK(a1 == a3);
    CHECK(std::isfinite(a1) && a1 >= p1->file().action_low()[0] &&
          a1 <= p1->file().action_high()[0]);
    any_different = any_different || ao != a1;
    obs[0] += 0.1f * a1;
  }
  CHECK(any_different);
  CHECK(p1->step() == 5);
  // The warm start was shifted: its last row is the middle of the action range.
  const float mid = (p1->file().action_low()[0] + p1->file().action_high()[0]) / 2.0f;
  CHECK(p1->warm_start().back() == mid);
  p1->Reset();
  for (float x : p1->warm_start()) CHECK(x == mid);
  float bad[4] = {0.0f, NAN, 0.0f, 0.0f};
  float action = 0;
  CHECK_THROWS(p1->Act(bad, &action));
  std::remove(path.c_str());
}

TEST(ClearErrorsForBadFiles) {
  const SafetensorsFile f = MakePolicy();
  const std::vector<uint8_t> good = Serialise(f);
  CHECK(Throws({good.begin(), good.begin() + 5}, "truncated"));
  CHECK(Throws({good.begin(), good.end() - 1}, "truncated"));
  std::vector<uint8_t> absurd = good;
  absurd[7] = 0x7f;
  CHECK(Throws(absurd, "absurd header size"));
  std::vector<uint8_t> flipped = good;
  flipped[good.size() - 3] ^= 0x40;
  CHECK(Throws(flipped, "checksum mismatch"));

  SafetensorsFile v2 = f;
  v2.metadata["format_version"] = "2";
  v2.metadata["sha256"] = mbrlhpo::ModelFileChecksum(v2);
  CHECK(Throws(Serialise(v2), "policy format version '2' is not supported"));
  SafetensorsFile other = f;
  other.metadata["format"] = "something-else";
  other.metadata["sha256"] = mbrlhpo::ModelFileChecksum(other);
  CHECK(Throws(Serialise(other), "not an mbrlhpo policy file"));
  SafetensorsFile shape = f;
  shape.tensors["layer1.bias"].shape = {2, 8, 1};
  shape.metadata["sha256"] = mbrlhpo::ModelFileChecksum(shape);
  CHECK(
      Throws(Serialise(shape), "expected tensor 'layer1.bias' of shape (2, 1, 8), got (2, 8, 1)"));
  SafetensorsFile task = f;
  task.metadata["task"] = "hopper";
  task.metadata["sha256"] = mbrlhpo::ModelFileChecksum(task);
  CHECK(Throws(Serialise(task), "do not match task 'hopper'"));
  SafetensorsFile no_sum = f;
  no_sum.metadata.erase("sha256");
  CHECK(Throws(Serialise(no_sum), "metadata 'sha256' is missing"));
}

TEST(EveryTruncationAndByteFlipIsRejectedOrHarmless) {
  const SafetensorsFile f = MakePolicy();
  const std::vector<uint8_t> good = Serialise(f);
  CHECK(LoadsIdenticalOrThrows(good, f));
  int loaded = 0;
  for (size_t n = 0; n < good.size(); ++n) {
    CHECK(Throws({good.begin(), good.begin() + n}, ""));
  }
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t mask : {0x01, 0x20, 0x80, 0xff}) {
      std::vector<uint8_t> b = good;
      b[i] ^= mask;
      try {
        ModelFile m = ModelFile::FromBytes(b.data(), b.size());
        CHECK(SameContents(m, f));
        ++loaded;
      } catch (const mbrlhpo::Error&) {
      }
    }
  }
  std::printf("  %d of %zu byte flips loaded (whitespace only)\n", loaded, 4 * good.size());
}

TEST(RandomMutationsNeverCrash) {
  const SafetensorsFile f = MakePolicy();
  const std::vector<uint8_t> good = Serialise(f);
  const size_t header_end = 8 + (good[0] | (good[1] << 8) | (good[2] << 16));
  // MBRLHPO_FUZZ_ITERATIONS=N runs a longer campaign (e.g. under -fsanitize=address,undefined).
  const char* env = std::getenv("MBRLHPO_FUZZ_ITERATIONS");
  const long iterations = env != nullptr ? std::atol(env) : 20000;
  std::mt19937_64 rng(2024);
  auto uniform = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  for (long iter = 0; iter < iterations; ++iter) {
    std::vector<uint8_t> b = good;
    const int edits = 1 + static_cast<int>(uniform(4));
    for (int k = 0; k < edits && !b.empty(); ++k) {
      const size_t pos = uniform(b.size());
      const size_t hpos = uniform(std::min(header_end, b.size()));
      switch (uniform(6)) {
        case 0:
          b[pos] ^= static_cast<uint8_t>(1u << uniform(8));
          break;
        case 1:
          b[hpos] = static_cast<uint8_t>("{}[]\",:0123456789-.eE \\u"[uniform(24)]);
          break;
        case 2:
          b.resize(pos);
          break;
        case 3:
          b.insert(b.begin() + hpos, static_cast<uint8_t>(uniform(256)));
          break;
        case 4:
          b.erase(b.begin() + hpos, b.begin() + std::min(b.size(), hpos + 1 + uniform(8)));
          break;
        default:
          b[uniform(8) % b.size()] = static_cast<uint8_t>(uniform(256));
          break;
      }
    }
    CHECK(LoadsIdenticalOrThrows(b, f));
  }
}

TEST_MAIN()
