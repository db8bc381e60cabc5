// The C++ consumer API of mbrlhpo in one include: batched MuJoCo environments and their tasks,
// exported PETS policies (model files) and the CPU planner that runs them, errors, build facts.
// examples/cpp_controller/main.cpp is a complete program on it.
#pragma once

#include "mbrlhpo/build_info.h"
#include "mbrlhpo/cem_planner.h"
#include "mbrlhpo/ensemble_view.h"
#include "mbrlhpo/errors.h"
#include "mbrlhpo/export.h"
#include "mbrlhpo/model_file.h"
#include "mbrlhpo/planner_task.h"
#include "mbrlhpo/tasks.h"
#include "mbrlhpo/vec_env.h"
