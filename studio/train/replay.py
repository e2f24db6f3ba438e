"""The experience replay buffer of the deep Q-learning paradigms (gridworld states or observation vectors)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


class ReplayBuffer:
    """A ring of the last ``size`` transitions (state, action, reward, next state, terminal)."""

    def __init__(self, size: int, state_shape: Sequence[int] = (), state_dtype: type = np.int64) -> None:
        self.s = np.zeros((size, *state_shape), state_dtype)
        self.s2 = np.zeros((size, *state_shape), state_dtype)
        self.a = np.zeros(size, np.int64)
        self.r = np.zeros(size, np.float32)
        self.done = np.zeros(size, np.float32)
        self.filled = self.pos = 0

    def add(self, s, a: int, r: float, s2, terminal: bool) -> None:
        """Store one transition; ``terminal`` only when the task ended it (a time limit keeps bootstrapping)."""
        i = self.pos
        self.s[i], self.a[i], self.r[i], self.s2[i], self.done[i] = s, a, r, s2, float(terminal)
        self.pos = (self.pos + 1) % len(self.s)
        self.filled = min(self.filled + 1, len(self.s))

    def sample(self, rng: np.random.Generator, batch: int, device: torch.device) -> tuple[torch.Tensor, ...]:
        """(states, actions, rewards, next states, terminal) of ``batch`` transitions drawn with replacement."""
        idx = rng.integers(0, self.filled, batch)
        return tuple(torch.from_numpy(arr[idx]).to(device) for arr in (self.s, self.a, self.r, self.s2, self.done))
