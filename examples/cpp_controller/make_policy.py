"""Trains a small PETS agent briefly and exports its policy for cpp_controller.

    python examples/cpp_controller/make_policy.py OUT.safetensors [--task cartpole] [--trials 1]

Trial 0 acts randomly; each later trial trains the model and runs one MPC episode in Python (the
``quick`` profile: small model and CEM). Then the model is trained once more on all data, as
PETS does before the next trial, and exported: the file is the policy the next trial would
plan with. It holds the model, normaliser, CEM settings, planner seed and the task's MJCF:
cpp_controller needs nothing else. The default (one random trial + training) takes seconds.
"""

from __future__ import annotations

import argparse
import time

import mbrlhpo
from mbrlhpo.planning.export import export_agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the policy file to write")
    parser.add_argument("--task", default="cartpole")
    parser.add_argument("--trials", type=int, default=1, help="trials to run (>= 1)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.trials < 1:
        parser.error(f"expected --trials >= 1, got {args.trials}")
    agent = mbrlhpo.PETSAgent(args.task, seed=args.seed, profile="quick")
    for _ in range(args.trials):
        start = time.perf_counter()
        r = agent.run_trial()
        print(
            f"trial {r.trial}: return {r.ret:.3f} over {r.steps} steps "
            f"({'random' if r.random else 'MPC'}, {time.perf_counter() - start:.1f} s)"
        )
    loss, rolled_back, _ = agent.train_model()
    if rolled_back:
        raise SystemExit("training diverged (NaN/inf): the model was rolled back, nothing exported")
    last = "none: no epochs" if loss is None else f"{loss:.3f}"
    print(f"trained the model on {len(agent.buffer)} transitions (last epoch loss {last})")
    path = export_agent(agent, args.out)
    print(f"exported {args.task} policy to {path} ({path.stat().st_size} bytes)")
    agent.close()


if __name__ == "__main__":
    main()
