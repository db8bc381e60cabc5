// cpp_controller: runs an exported mbrlhpo policy on a live MuJoCo environment, with no Python.
//
// Usage: cpp_controller POLICY [--steps N] [--episodes K] [--env-seed S] [--seed S]
//                              [--threads T] [--xml PATH]
//   POLICY      a file written by mbrlhpo.planning.export.export_agent (format mbrlhpo-policy)
//   --steps     steps per episode (default: the task's steps per trial)
//   --episodes  episodes to run (default 1)
//   --env-seed  seed of the environment's reset states (default 0)
//   --seed      seed of the planner's noise (default: the exporting agent's planner seed)
//   --threads   planner threads (default 0: one per core; actions do not depend on it)
//   --xml       the task's MJCF file (default: the MJCF text embedded in the policy file)
//
// Loads and verifies the policy (mbrlhpo::ModelFile), builds its CEM planner
// (mbrlhpo::FilePlanner: the same algorithm and state as the Python native planner), creates a
// one-env mbrlhpo::VecEnv of the task and plans every step, printing each episode's return.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "mbrlhpo/mbrlhpo.h"  // the whole consumer API

namespace {

struct Args {
  std::string policy;
  int steps = 0;
  int episodes = 1;
  uint64_t env_seed = 0;
  bool has_seed = false;
  uint64_t seed = 0;
  int threads = 0;
  std::string xml;
};

[[noreturn]] void Usage(const char* message) {
  std::fprintf(stderr,
               "%s\nusage: cpp_controller POLICY [--steps N] [--episodes K] [--env-seed S] "
               "[--seed S] [--threads T] [--xml PATH]\n",
               message);
  std::exit(2);
}

uint64_t ParseNumber(const std::string& flag, const char* text) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (text[0] == '-' || *text == '\0' || *end != '\0' || errno != 0) {
    Usage(("expected a non-negative integer after " + flag + ", got '" + text + "'").c_str());
  }
  return v;
}

Args ParseArgs(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--steps") {
      args.steps = static_cast<int>(ParseNumber(a, value()));
    } else if (a == "--episodes") {
      args.episodes = static_cast<int>(ParseNumber(a, value()));
    } else if (a == "--env-seed") {
      args.env_seed = ParseNumber(a, value());
    } else if (a == "--seed") {
      args.seed = ParseNumber(a, value());
      args.has_seed = true;
    } else if (a == "--threads") {
      args.threads = static_cast<int>(ParseNumber(a, value()));
    } else if (a == "--xml") {
      args.xml = value();
    } else if (!a.empty() && a[0] == '-') {
      Usage(("unknown option " + a).c_str());
    } else if (args.policy.empty()) {
      args.policy = a;
    } else {
      Usage(("unexpected argument " + a).c_str());
    }
  }
  if (args.policy.empty()) Usage("expected a policy file");
  if (args.episodes < 1) Usage("expected --episodes >= 1");
  return args;
}

// The embedded MJCF written to a temporary file (VecEnv compiles a file); removed on exit.
class TempXml {
 public:
  explicit TempXml(const std::string& text) {
    const char* dir = std::getenv("TMPDIR");
    std::string pattern = std::string(dir != nullptr ? dir : "/tmp") + "/mbrlhpo-XXXXXX.xml";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const int fd = mkstemps(buf.data(), 4);
    MBRLHPO_CHECK(fd >= 0, "cannot create a temporary MJCF file ", pattern);
    path_ = buf.data();
    const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    MBRLHPO_CHECK(ok, "cannot write the temporary MJCF file ", path_);
  }
  ~TempXml() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

int main(int argc, char** argv) {
  const Args args = ParseArgs(argc, argv);
  try {
    mbrlhpo::CheckMuJoCoVersion();
    const mbrlhpo::BuildInfo info = mbrlhpo::GetBuildInfo();
    std::printf("mbrlhpo %s, MuJoCo %s, BLAS %s\n", info.version.c_str(),
                info.mujoco_version_string.c_str(), info.blas.c_str());

    auto file = std::make_shared<const mbrlhpo::ModelFile>(mbrlhpo::ModelFile::Load(args.policy));
    const mbrlhpo::CemSettings& cem = file->cem();
    std::printf("policy %s: task %s, ensemble %d, layers", args.policy.c_str(),
                file->task_name().c_str(), file->ensemble_size());
    for (int s : file->layer_sizes()) std::printf(" %d", s);
    std::printf(", CEM H=%d N=%d K=%d I=%d P=%d alpha=%g, exported by mbrlhpo %s\n", cem.horizon,
                cem.population, cem.num_elites, cem.iterations, cem.particles, cem.alpha,
                file->metadata().at("mbrlhpo_version").c_str());
    const uint64_t seed = args.has_seed ? args.seed : file->seed();
    mbrlhpo::FilePlanner planner(file, seed, args.threads);

    std::unique_ptr<TempXml> temp;
    mbrlhpo::VecEnvConfig config;
    config.task = file->task_name();
    if (args.xml.empty()) {
      temp = std::make_unique<TempXml>(file->mjcf());
      config.model_file = temp->path();
    } else {
      config.model_file = args.xml;
    }
    config.num_envs = 1;
    config.num_threads = 1;
    config.seed = args.env_seed;
    config.max_episode_steps = args.steps;
    mbrlhpo::VecEnv env(config);
    temp.reset();

    const int o = env.obs_dim(), a = env.act_dim();
    std::vector<double> obs(o), action(a), reward(1);
    std::vector<float> obs_f(o), action_f(a);
    uint8_t terminated = 0, truncated = 0, diverged = 0;
    double total = 0.0;
    env.Reset(args.env_seed, obs.data());
    for (int episode = 0; episode < args.episodes; ++episode) {
      if (episode > 0) env.Reset(obs.data());
      planner.Reset();
      double ret = 0.0;
      int steps = 0;
      const auto start = std::chrono::steady_clock::now();
      while (true) {
        for (int i = 0; i < o; ++i) obs_f[i] = static_cast<float>(obs[i]);
        planner.Act(obs_f.data(), action_f.data());
        for (int i = 0; i < a; ++i) action[i] = action_f[i];
        env.Step(action.data(), obs.data(), reward.data(), &terminated, &truncated, &diverged);
        ret += reward[0];
        ++steps;
        if (terminated || truncated) break;
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("episode %d: return %.4f over %d steps%s (%.2f ms per step)\n", episode, ret,
                  steps, diverged ? " (simulation diverged)" : (terminated ? " (terminated)" : ""),
                  1e3 * seconds / steps);
      total += ret;
    }
    std::printf("mean return %.4f over %d episode(s)\n", total / args.episodes, args.episodes);
  } catch (const mbrlhpo::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory (the policy's settings are too large)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
