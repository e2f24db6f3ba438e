"""A small gridworld for Q-learning: walls, goals, pits, cliffs, step penalty, slippery moves.

Layout rows use ``S`` start, ``G`` goal, ``#`` wall, ``X`` pit (the episode ends), ``C`` cliff
(penalty and back to the start) and ``.`` free. States are ``row * width + col``. Actions are
0 up, 1 right, 2 down, 3 left; moving into a wall or off the grid leaves the agent in place and
earns ``bump_reward``.

Beyond the layout: ``cell_rewards`` are paid on entering a cell; ``teleports`` move the agent
from a cell to another whatever it does, paying their reward (Sutton & Barto's A → A′);
``continuing`` tasks have no terminal state (episodes are cut at ``max_steps`` only).

Slip: with probability ``slip`` the chosen action is replaced by one of the four drawn uniformly
(possibly the chosen one), so the intended move happens with probability 1 − slip + slip/4.
:meth:`GridWorld.transitions` gives the exact model with these probabilities, which value
iteration (:mod:`studio.train.tabular`) solves to judge policies.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

FREE, WALL, GOAL, PIT, CLIFF, START = 0, 1, 2, 3, 4, 5
CODES = {".": FREE, "#": WALL, "G": GOAL, "X": PIT, "C": CLIFF, "S": START}
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))
ACTION_NAMES = ("up", "right", "down", "left")
COLOURS = {FREE: (235, 235, 235), WALL: (60, 60, 70), GOAL: (80, 190, 90), PIT: (200, 70, 60),
           CLIFF: (150, 90, 60), START: (120, 160, 230)}


class GridError(ValueError):
    """A layout that cannot be played; the message names the row/column."""


class GridWorld:
    def __init__(self, layout: Sequence[str], goal_reward: float = 1.0, pit_reward: float = -1.0,
                 cliff_reward: float = -1.0, step_reward: float = -0.01, slip: float = 0.0,
                 max_steps: int = 0, seed: int = 0, *, bump_reward: float = 0.0,
                 cell_rewards: Sequence[tuple[int, int, float]] = (),
                 teleports: Sequence[tuple[int, int, int, int, float]] = (), continuing: bool = False) -> None:
        rows = [str(r) for r in layout]
        if not rows or not rows[0]:
            raise GridError("the grid layout is empty")
        width = len(rows[0])
        for i, row in enumerate(rows):
            if len(row) != width:
                raise GridError(f"grid row {i + 1} has {len(row)} cells; row 1 has {width}")
            for j, ch in enumerate(row):
                if ch not in CODES:
                    raise GridError(f"grid row {i + 1}, column {j + 1}: unknown cell {ch!r} (use S G # X C .)")
        self.cells = np.array([[CODES[ch] for ch in row] for row in rows], dtype=np.int64)
        self.height, self.width = self.cells.shape
        flat = self.cells.reshape(-1)
        self.goals = [int(s) for s in np.nonzero(flat == GOAL)[0]]
        self.continuing = bool(continuing)
        if not self.goals and not self.continuing:
            raise GridError("the grid needs at least one goal (G), or make the task continuing")
        self.bump_reward = float(bump_reward)
        self.cell_rewards = {self._cell(r, c, "cell reward"): float(v) for r, c, v in cell_rewards}
        self.teleports = {self._cell(r, c, "teleport"): (self._cell(tr, tc, "teleport target"), float(v))
                          for r, c, tr, tc, v in teleports}
        starts = np.nonzero(flat == START)[0]
        free = np.nonzero((flat == FREE) | (flat == START))[0]
        if len(free) == 0:
            raise GridError("the grid has no free cell to start in")
        self.start = int(starts[0]) if len(starts) else int(free[0])
        self.rewards = (goal_reward, pit_reward, cliff_reward, step_reward)
        self.slip = slip
        self.max_steps = max_steps or 4 * self.height * self.width
        self.rng = np.random.default_rng(seed)
        self.n_states = self.height * self.width
        self.state = self.start
        self.steps = 0
        self._dist = self._bfs()
        if self.continuing:
            self.starts = [int(s) for s in free]
        else:
            self.starts = [int(s) for s in free if self._dist[s] > 0]  # free cells that can reach a goal
            if self._dist[self.start] < 0:
                raise GridError("no goal can be reached from the start")

    def _cell(self, row: int, col: int, what: str) -> int:
        """State of a (row, column) given in settings, 0-based; refuses cells off the grid or in a wall."""
        r, c = int(row), int(col)
        if not (0 <= r < self.height and 0 <= c < self.width):
            raise GridError(f"{what} at row {r + 1}, column {c + 1} is off the {self.height}×{self.width} grid")
        if self.cells[r, c] == WALL:
            raise GridError(f"{what} at row {r + 1}, column {c + 1} is a wall")
        return r * self.width + c

    # -- dynamics --------------------------------------------------------------------------------
    def move(self, state: int, action: int) -> int:
        """Deterministic successor (walls and edges block)."""
        r, c = divmod(state, self.width)
        dr, dc = MOVES[action]
        nr, nc = r + dr, c + dc
        if 0 <= nr < self.height and 0 <= nc < self.width and self.cells[nr, nc] != WALL:
            return nr * self.width + nc
        return state

    def terminal(self, state: int) -> bool:
        return not self.continuing and self.cells.flat[state] in (GOAL, PIT)

    def outcome(self, state: int, action: int) -> tuple[int, float, bool]:
        """What the action does from ``state`` without slip: (next state, reward, episode over)."""
        if state in self.teleports:
            target, reward = self.teleports[state]
            return target, reward + self.rewards[3], False
        nxt = self.move(state, action)
        goal_r, pit_r, cliff_r, step_r = self.rewards
        reward = step_r + (self.bump_reward if nxt == state else 0.0) + self.cell_rewards.get(nxt, 0.0)
        kind = self.cells.flat[nxt]
        if kind == CLIFF:
            return self.start, reward + cliff_r, False
        if self.continuing:
            return nxt, reward, False
        if kind == GOAL:
            return nxt, reward + goal_r, True
        if kind == PIT:
            return nxt, reward + pit_r, True
        return nxt, reward, False

    def transitions(self) -> list[list[list[tuple[float, int, float, bool]]]]:
        """The exact model: ``[state][action]`` -> [(probability, next state, reward, done)], slip included."""
        model = []
        for s in range(self.n_states):
            per_action = []
            for a in range(4):
                if self.terminal(s) or self.cells.flat[s] == WALL:
                    per_action.append([(1.0, s, 0.0, True)])
                    continue
                probs = [self.slip / 4] * 4
                probs[a] += 1.0 - self.slip
                per_action.append([(p, *self.outcome(s, b)) for b, p in enumerate(probs) if p > 0])
            model.append(per_action)
        return model

    def reset(self, start: int | None = None) -> int:
        self.state = self.start if start is None else int(start)
        self.steps = 0
        return self.state

    def step(self, action: int) -> tuple[int, float, bool]:
        """Returns (next state, reward, episode over)."""
        if self.slip > 0 and self.rng.random() < self.slip:
            action = int(self.rng.integers(4))
        nxt, reward, done = self.outcome(self.state, action)
        self.state = nxt
        self.steps += 1
        if self.steps >= self.max_steps:
            done = True
        return nxt, reward, done

    # -- oracle ----------------------------------------------------------------------------------
    def _bfs(self) -> np.ndarray:
        dist = np.full(self.n_states, -1, dtype=np.int64)
        queue = deque(self.goals)
        for g in self.goals:
            dist[g] = 0
        passable = {FREE, START}
        while queue:
            s = queue.popleft()
            for a in range(4):
                # predecessors: cells p with move(p, a') == s; moves are symmetric in a grid
                p = self.move(s, a)
                if p != s and dist[p] < 0 and self.cells.flat[p] in passable and self.move(p, (a + 2) % 4) == s:
                    dist[p] = dist[s] + 1
                    queue.append(p)
        return dist

    def distances(self) -> np.ndarray:
        """Shortest number of moves to a goal from every cell (-1: wall, pit, cliff or cut off)."""
        return self._dist.copy()

    def optimal_actions(self, state: int) -> list[int]:
        d = self._dist[state]
        return [a for a in range(4) if d > 0 and self._dist[self.move(state, a)] == d - 1]

    def greedy_path(self, actions: np.ndarray, start: int | None = None) -> list[int]:
        """States visited following ``actions[state]`` deterministically (stops at a terminal or a loop)."""
        s = self.start if start is None else start
        path, seen = [s], {s}
        while not self.terminal(s) and len(path) <= self.n_states:
            s = self.move(s, int(actions[s]))
            if self.cells.flat[s] == CLIFF:
                s = self.start
            path.append(s)
            if s in seen:
                break
            seen.add(s)
        return path

    def policy_quality(self, q: np.ndarray) -> dict[str, float]:
        """Share of states whose greedy move is optimal, and of starts that reach a goal along a shortest path."""
        actions = q.argmax(1)
        good = sum(int(actions[s]) in self.optimal_actions(s) for s in self.starts)
        shortest = 0
        for s in self.starts:
            path = self.greedy_path(actions, s)
            if self.cells.flat[path[-1]] == GOAL and len(path) - 1 == self._dist[s]:
                shortest += 1
        n = max(1, len(self.starts))
        return {"optimal_actions": good / n, "optimal_paths": shortest / n}

    # -- drawing ---------------------------------------------------------------------------------
    def render(self, cell: int = 16, agent: int | None = None, path: Sequence[int] = ()) -> np.ndarray:
        """An RGB image (H*cell, W*cell, 3) of the grid, the path walked and the agent."""
        img = np.zeros((self.height * cell, self.width * cell, 3), dtype=np.uint8)
        for r in range(self.height):
            for c in range(self.width):
                img[r * cell:(r + 1) * cell, c * cell:(c + 1) * cell] = COLOURS[int(self.cells[r, c])]
        img[::cell, :] = 200
        img[:, ::cell] = 200
        q = max(1, cell // 4)
        for s in path:
            r, c = divmod(int(s), self.width)
            img[r * cell + q + 1:(r + 1) * cell - q, c * cell + q + 1:(c + 1) * cell - q] = (250, 210, 80)
        s = self.state if agent is None else agent
        r, c = divmod(int(s), self.width)
        img[r * cell + 2:(r + 1) * cell - 1, c * cell + 2:(c + 1) * cell - 1] = (30, 90, 200)
        return img

    def encode(self, shape: Sequence[int]) -> np.ndarray:
        """Every state as a network input of ``shape``: one-hot (H*W,), coordinates (2,), or planes (C, H, W)."""
        shape = tuple(int(d) for d in shape)
        n, h, w = self.n_states, self.height, self.width
        if shape == (n,):
            return np.eye(n, dtype=np.float32)
        if shape == (2,):
            r, c = np.divmod(np.arange(n), w)
            return np.stack([r / max(1, h - 1), c / max(1, w - 1)], 1).astype(np.float32)
        if len(shape) == 3 and shape[1:] == (h, w) and 1 <= shape[0] <= 3:
            planes = np.zeros((n, 3, h, w), dtype=np.float32)
            planes[np.arange(n), 0, np.arange(n) // w, np.arange(n) % w] = 1.0
            planes[:, 1] = (self.cells == WALL)[None]
            planes[:, 2] = (self.cells == GOAL)[None] * 1.0 - (self.cells == PIT)[None] - (self.cells == CLIFF)[None]
            return planes[:, : shape[0]]
        raise GridError(f"the Q-network's Input shape {list(shape)} does not fit a {h}×{w} grid; use [{n}] (one-hot "
                        f"cell), [2] (row, column) or [3, {h}, {w}] (agent, walls, goal/pit planes)")
