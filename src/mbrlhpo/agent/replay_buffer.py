"""The agent's dataset: every transition so far, in immutable per-episode chunks.

Appending copies only the new episode into a contiguous array that grows by doubling, so the
whole dataset is available for training without re-concatenating it every trial (amortised
O(1) per transition). PBT's exploit shares the chunks and the contiguous array with the copy
instead of duplicating them; the first append to a shared array moves it to a private one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIELDS = ("obs", "act", "next_obs", "reward", "terminated")


@dataclass(frozen=True)
class Transitions:
    """A batch of transitions, each field ``(N x ...)``; read-only arrays."""

    obs: np.ndarray  # (N x O) float64
    act: np.ndarray  # (N x A) float64
    next_obs: np.ndarray  # (N x O) float64
    reward: np.ndarray  # (N,) float64
    terminated: np.ndarray  # (N,) bool

    def __len__(self) -> int:
        return len(self.reward)


class ReplayBuffer:
    """All transitions of an agent, grouped by episode."""

    def __init__(self, obs_dim: int, act_dim: int) -> None:
        if obs_dim < 1 or act_dim < 1:
            raise ValueError(f"expected obs_dim, act_dim >= 1, got {obs_dim}, {act_dim}")
        self.obs_dim = obs_dim
        self.act_dim = act_dim
        self._episode_ends: list[int] = []  # cumulative lengths
        self._digests: list[str | None] = []  # content hash per episode, computed on demand
        self._size = 0
        self._store: dict[str, np.ndarray] = self._allocate(256)
        self._shared = False  # True while another buffer may read self._store

    def _allocate(self, capacity: int) -> dict[str, np.ndarray]:
        o, a = self.obs_dim, self.act_dim
        return {
            "obs": np.empty((capacity, o)),
            "act": np.empty((capacity, a)),
            "next_obs": np.empty((capacity, o)),
            "reward": np.empty(capacity),
            "terminated": np.empty(capacity, dtype=bool),
        }

    def __len__(self) -> int:
        return self._size

    @property
    def num_episodes(self) -> int:
        return len(self._episode_ends)

    @property
    def episode_lengths(self) -> list[int]:
        starts = [0, *self._episode_ends[:-1]]
        return [end - start for start, end in zip(starts, self._episode_ends, strict=True)]

    def add_episode(self, obs, act, next_obs, reward, terminated) -> None:
        """Appends one episode, ``(T x O)``, ``(T x A)``, ``(T x O)``, ``(T,)``, ``(T,)``."""
        obs = np.asarray(obs, dtype=np.float64)
        act = np.asarray(act, dtype=np.float64)
        next_obs = np.asarray(next_obs, dtype=np.float64)
        reward = np.asarray(reward, dtype=np.float64)
        terminated = np.asarray(terminated, dtype=bool)
        steps = len(reward)
        expected = {
            "obs": (steps, self.obs_dim),
            "act": (steps, self.act_dim),
            "next_obs": (steps, self.obs_dim),
            "terminated": (steps,),
        }
        for name, array in (
            ("obs", obs),
            ("act", act),
            ("next_obs", next_obs),
            ("terminated", terminated),
        ):
            if array.shape != expected[name]:
                raise ValueError(f"expected {name} of shape {expected[name]}, got {array.shape}")
        if reward.ndim != 1 or steps == 0:
            raise ValueError(f"expected a non-empty reward of shape (T,), got {reward.shape}")
        needed = self._size + steps
        capacity = len(self._store["reward"])
        if needed > capacity or self._shared:
            new_capacity = capacity
            while new_capacity < needed:
                new_capacity *= 2
            store = self._allocate(new_capacity)
            for name in FIELDS:
                store[name][: self._size] = self._store[name][: self._size]
            self._store = store
            self._shared = False
        for name, array in zip(FIELDS, (obs, act, next_obs, reward, terminated), strict=True):
            self._store[name][self._size : needed] = array
        self._size = needed
        self._episode_ends.append(needed)
        self._digests.append(None)

    def all(self) -> Transitions:
        """Every transition so far, as read-only views (no copy)."""
        views = {}
        for name in FIELDS:
            view = self._store[name][: self._size].view()
            view.flags.writeable = False
            views[name] = view
        return Transitions(**views)

    def episode(self, index: int) -> Transitions:
        """One episode's transitions (read-only views); negative indices count from the end."""
        ends = self._episode_ends
        if not -len(ends) <= index < len(ends):
            raise IndexError(f"episode {index} out of range for {len(ends)} episodes")
        index %= len(ends)
        start = ends[index - 1] if index else 0
        data = self.all()
        return Transitions(*(getattr(data, f)[start : ends[index]] for f in FIELDS))

    def last_episodes(self, count: int) -> Transitions:
        """The transitions of the last ``count`` episodes (read-only views)."""
        if count < 1 or not self._episode_ends:
            raise ValueError(f"expected count >= 1 and a non-empty buffer, got count={count}")
        count = min(count, len(self._episode_ends))
        start = self._episode_ends[-count - 1] if count < len(self._episode_ends) else 0
        data = self.all()
        return Transitions(*(getattr(data, f)[start:] for f in FIELDS))

    def share_from(self, other: ReplayBuffer) -> None:
        """Becomes a copy of ``other`` without copying data (PBT exploit)."""
        if (other.obs_dim, other.act_dim) != (self.obs_dim, self.act_dim):
            raise ValueError(
                f"expected a buffer of dims ({self.obs_dim}, {self.act_dim}), "
                f"got ({other.obs_dim}, {other.act_dim})"
            )
        self._store = other._store
        self._size = other._size
        self._episode_ends = list(other._episode_ends)
        self._digests = list(other._digests)
        self._shared = True
        other._shared = True

    def episode_digest(self, index: int) -> str:
        """SHA-256 of one episode's arrays (names, dtypes, shapes, bytes); cached, since
        episodes never change. Names the episode in a content-addressed EpisodeStore."""
        index %= len(self._episode_ends)
        if self._digests[index] is None:
            from mbrlhpo.agent.checkpoint import array_digest

            ep = self.episode(index)
            self._digests[index] = array_digest({f: getattr(ep, f) for f in FIELDS})
        return self._digests[index]

    def state(self) -> dict[str, np.ndarray]:
        """Arrays that restore this buffer with :meth:`from_state` (for checkpoints)."""
        data = self.all()
        out = {f"buffer/{name}": np.ascontiguousarray(getattr(data, name)) for name in FIELDS}
        out["buffer/episode_ends"] = np.asarray(self._episode_ends, dtype=np.int64)
        return out

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray], obs_dim: int, act_dim: int) -> ReplayBuffer:
        buffer = cls(obs_dim, act_dim)
        ends = [int(e) for e in state["buffer/episode_ends"]]
        start = 0
        for end in ends:
            buffer.add_episode(*(state[f"buffer/{name}"][start:end] for name in FIELDS))
            start = end
        if len(buffer) != len(state["buffer/reward"]):
            raise ValueError(
                f"corrupt buffer state: episodes cover {len(buffer)} transitions, "
                f"arrays hold {len(state['buffer/reward'])}"
            )
        return buffer
