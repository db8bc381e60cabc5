// THE list of built-in tasks. Every table of tasks is derived from it: the TaskId enum,
// DispatchTask and AllTasks() (mbrlhpo/tasks.h), the native planner's registry
// (csrc/src/planner_task.cpp), the environments' reset and observation (csrc/src/vec_env.cpp,
// csrc/src/task_envs/), the CUDA task dispatch and kernel instantiations
// (cuda/include/mbrlhpo/cuda/kernels/common.h, cuda/src/cuda_planner.cpp). The Python rows
// (src/mbrlhpo/envs/builtin/<name>.py, names in src/mbrlhpo/catalog.py) are checked against it by
// tests/envs/test_task_tables.py.
// Adding a task: docs/new_task.md.
#pragma once

#include "mbrlhpo/tasks/cartpole.h"
#include "mbrlhpo/tasks/halfcheetah.h"
#include "mbrlhpo/tasks/hexapod.h"
#include "mbrlhpo/tasks/hopper.h"
#include "mbrlhpo/tasks/pusher.h"
#include "mbrlhpo/tasks/reacher.h"

// X(Type) for each task struct mbrlhpo::tasks::Type, in TaskId order (append new tasks at the
// end: the ids are stored nowhere, but the order is the order every table lists).
#define MBRLHPO_BUILTIN_TASKS(X) \
  X(Cartpole)                    \
  X(Reacher)                     \
  X(Pusher)                      \
  X(Hopper)                      \
  X(HalfCheetah)                 \
  X(Hexapod)
