"""Type stub of mbrlhpo._core (pybind11), written by scripts/make_core_stub.py."""

# ruff: noqa: E501, F401
import collections.abc
import os
import typing

import numpy
import numpy.typing

class CemMemberSpec:
    def __init__(
        self,
        task: str,
        weights: list,
        biases: list,
        max_logvar: numpy.ndarray,
        min_logvar: numpy.ndarray,
        input_mean: numpy.ndarray,
        input_std: numpy.ndarray,
        action_low: numpy.ndarray,
        action_high: numpy.ndarray,
        horizon: typing.SupportsInt | typing.SupportsIndex,
        population: typing.SupportsInt | typing.SupportsIndex,
        num_elites: typing.SupportsInt | typing.SupportsIndex,
        iterations: typing.SupportsInt | typing.SupportsIndex,
        alpha: typing.SupportsFloat | typing.SupportsIndex,
        particles: typing.SupportsInt | typing.SupportsIndex,
        seed: typing.SupportsInt | typing.SupportsIndex,
        precision: str = "float32",
    ) -> None:
        """A member's planning problem: weights aliased (float32, C-contiguous), not copied."""

class CemPlanner:
    def __init__(
        self,
        num_threads: typing.SupportsInt | typing.SupportsIndex = 0,
        tile_rows: typing.SupportsInt | typing.SupportsIndex = 512,
    ) -> None: ...
    @property
    def num_threads(self) -> int: ...
    def plan(
        self,
        members: collections.abc.Sequence[CemMemberSpec],
        obs: collections.abc.Sequence[numpy.ndarray],
        init_means: collections.abc.Sequence[numpy.ndarray],
        steps: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
        trace: bool = False,
    ) -> list:
        """Plan every member (GIL released); returns [(final mean (H, A), trace or None)]."""
    @property
    def tile_rows(self) -> int: ...

class CudaMemberSpec:
    def __init__(
        self,
        task: str,
        ensemble_size: typing.SupportsInt | typing.SupportsIndex,
        layer_sizes: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
        weights: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
        biases: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
        max_logvar: typing.SupportsInt | typing.SupportsIndex,
        min_logvar: typing.SupportsInt | typing.SupportsIndex,
        input_mean: typing.SupportsInt | typing.SupportsIndex,
        input_std: typing.SupportsInt | typing.SupportsIndex,
        action_low: numpy.ndarray,
        action_high: numpy.ndarray,
        horizon: typing.SupportsInt | typing.SupportsIndex,
        population: typing.SupportsInt | typing.SupportsIndex,
        num_elites: typing.SupportsInt | typing.SupportsIndex,
        iterations: typing.SupportsInt | typing.SupportsIndex,
        alpha: typing.SupportsFloat | typing.SupportsIndex,
        particles: typing.SupportsInt | typing.SupportsIndex,
        seed: typing.SupportsInt | typing.SupportsIndex,
        precision: str = "tf32",
    ) -> None:
        """A member's CUDA planning problem: model tensors as device pointers (read in place)."""

class CudaPlanner:
    def __init__(self, device: typing.SupportsInt | typing.SupportsIndex = 0) -> None: ...
    @property
    def device(self) -> str: ...
    @property
    def num_setups(self) -> int: ...
    def plan(
        self,
        members: collections.abc.Sequence[CudaMemberSpec],
        obs: collections.abc.Sequence[numpy.ndarray],
        init_means: collections.abc.Sequence[numpy.ndarray],
        steps: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
        trace: bool = False,
        stream: typing.SupportsInt | typing.SupportsIndex = 0,
    ) -> list:
        """Plan every member on `stream` (GIL released); returns [(final mean (H, A), trace or None)]."""

class FilePlanner:
    def __init__(
        self,
        path: str,
        seed: typing.SupportsInt | typing.SupportsIndex | None = None,
        num_threads: typing.SupportsInt | typing.SupportsIndex = 0,
    ) -> None:
        """The MPC planner of an exported policy (seed None: the exporting planner's seed)."""
    def act(
        self, obs: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]
    ) -> numpy.typing.NDArray[numpy.float32]:
        """Plans from obs (O,); returns the action (A,) and advances step."""
    @property
    def act_dim(self) -> int: ...
    @property
    def obs_dim(self) -> int: ...
    def reset(self) -> None:
        """New episode: warm start = middle of the action range."""
    @property
    def seed(self) -> int: ...
    @property
    def step(self) -> int: ...
    @property
    def task(self) -> str: ...
    @property
    def warm_start(self) -> numpy.typing.NDArray[numpy.float32]: ...

MODEL_FILE_FORMAT: str

MODEL_FILE_VERSION: int

class NativeError(ValueError):
    """Raised for bad input (one line)."""

class NativeVecEnv:
    """N copies of one task on MuJoCo's batch API."""
    def __init__(
        self,
        task: str,
        model_file: str,
        num_envs: typing.SupportsInt | typing.SupportsIndex,
        num_threads: typing.SupportsInt | typing.SupportsIndex,
        seed: typing.SupportsInt | typing.SupportsIndex,
        max_episode_steps: typing.SupportsInt | typing.SupportsIndex,
    ) -> None: ...
    def close(self) -> None: ...
    @property
    def num_threads(self) -> int: ...
    def reset(
        self, seed: typing.SupportsInt | typing.SupportsIndex | None = None
    ) -> numpy.typing.NDArray[numpy.float64]: ...
    def set_state(
        self,
        index: typing.SupportsInt | typing.SupportsIndex,
        qpos: typing.Annotated[numpy.typing.ArrayLike, numpy.float64],
        qvel: typing.Annotated[numpy.typing.ArrayLike, numpy.float64],
    ) -> numpy.typing.NDArray[numpy.float64]: ...
    def step(self, actions: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> tuple: ...

def bf16_supported() -> bool:
    """Whether this CPU runs the BF16 planner kernels."""

def build_info() -> dict:
    """Facts about this build of the native core (plain dict)."""

def cuda_available() -> bool:
    """True when the build has CUDA and at least one device is usable."""

def cuda_devices() -> list[str]:
    """Descriptions of the usable CUDA devices (empty without CUDA)."""

def cuda_planner_task_names() -> list[str]:
    """Tasks the CUDA planner's kernels are built for."""

def load_model_file(path: str) -> tuple:
    """Reads and verifies an exported policy; returns (metadata, arrays). Raises ValueError."""

def planner_task_names() -> list[str]:
    """Tasks the native planner knows."""

def register_planner_task(
    name: str,
    obs_dim: typing.SupportsInt | typing.SupportsIndex,
    act_dim: typing.SupportsInt | typing.SupportsIndex,
    model_input_dim: typing.SupportsInt | typing.SupportsIndex,
    absolute_target_dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
    reward: typing.SupportsInt | typing.SupportsIndex,
    terminated: typing.SupportsInt | typing.SupportsIndex,
    model_input: typing.SupportsInt | typing.SupportsIndex,
) -> None:
    """Registers a planner task from the addresses of C functions: float reward(const float* action, const float* next_obs), int terminated(const float* next_obs), void model_input(const float* obs, float* out). Used by mbrlhpo.Task; the functions must outlive the process's planning and run without the GIL."""
