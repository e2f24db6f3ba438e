"""Tabular reinforcement learning on the gridworld: TD control and dynamic programming.

TD control (Sutton & Barto ch. 6): Q-learning bootstraps on max Q(s′, ·), SARSA on the action
it will take next, Expected SARSA on the ε-greedy expectation. Dynamic programming (ch. 4):
value iteration and iterative policy evaluation, one sweep at a time so a view can play them.
Policies are judged against value iteration of the true model (slip included), not shortest
paths, so a policy that is optimal on a slippery grid scores 1.0.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from studio.train.gridworld import GOAL, WALL, GridWorld

ALGORITHMS = ("q_learning", "sarsa", "expected_sarsa")
TIE = 1e-9  # values this close count as equal (greedy ties, optimal actions)


def greedy_actions(q_row: np.ndarray) -> np.ndarray:
    """Every action whose value ties for the best (the view draws them all)."""
    return np.flatnonzero(q_row >= q_row.max() - TIE)


def epsilon_greedy_probs(q_row: np.ndarray, epsilon: float) -> np.ndarray:
    """ε-greedy action probabilities, the greedy share split over tied best actions."""
    best = greedy_actions(q_row)
    probs = np.full(len(q_row), epsilon / len(q_row))
    probs[best] += (1.0 - epsilon) / len(best)
    return probs


@dataclass
class Episode:
    ret: float
    length: int
    path: list[int]
    reached_goal: bool


@dataclass
class Move:
    """One move and the update it made: Q(s, a) ← old + α · (target − old) = new."""

    state: int
    action: int
    reward: float
    next_state: int
    done: bool
    old: float
    target: float
    new: float
    alpha: float


@dataclass
class TDAgent:
    """An ε-greedy agent whose α, γ and ε may change between moves (live sliders act on it)."""

    n_states: int
    algorithm: str = "q_learning"
    alpha: float = 0.5
    gamma: float = 1.0
    epsilon: float = 0.1
    seed: int = 0
    learning: bool = True
    q: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm '{self.algorithm}' (choose {', '.join(ALGORITHMS)})")
        self.q = np.zeros((self.n_states, 4))
        self.rng = np.random.default_rng(self.seed)
        self._done = True  # no episode begun

    def act(self, state: int) -> int:
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(4))
        return int(self.rng.choice(greedy_actions(self.q[state])))

    def target(self, reward: float, nxt: int, next_action: int, done: bool) -> float:
        if done:
            return reward
        row = self.q[nxt]
        if self.algorithm == "q_learning":
            ahead = row.max()
        elif self.algorithm == "sarsa":
            ahead = row[next_action]
        else:
            ahead = float(epsilon_greedy_probs(row, self.epsilon) @ row)
        return reward + self.gamma * ahead

    def begin(self, env: GridWorld, start: int | None = None) -> None:
        """Start an episode that :meth:`move` plays one move at a time (the first action is chosen now)."""
        state = env.reset(start)
        self.walk = Episode(0.0, 0, [state], False)
        self._state, self._action, self._done = state, self.act(state), False

    @property
    def walking(self) -> bool:
        """An episode begun and not finished (a stepped run continues it before starting another)."""
        return not self._done

    def move(self, env: GridWorld) -> Move:
        """One move of the episode begun by :meth:`begin`: act, observe, choose the next action, update Q."""
        state, action = self._state, self._action
        nxt, reward, done = env.step(action)
        next_action = self.act(nxt)
        old = float(self.q[state, action])
        target = float(self.target(reward, nxt, next_action, done))
        if self.learning:
            self.q[state, action] += self.alpha * (target - old)
        walk = self.walk
        walk.ret += reward
        walk.path.append(nxt)
        walk.length += 1
        self._state, self._action, self._done = nxt, next_action, done
        if done:
            walk.reached_goal = bool(env.cells.flat[nxt] == GOAL)
        return Move(state, action, float(reward), nxt, done, old, target, float(self.q[state, action]), self.alpha)

    def episode(self, env: GridWorld, start: int | None = None, max_steps: int | None = None) -> Episode:
        """Play one episode from ``start``, learning after every move unless ``learning`` is off."""
        self.begin(env, start)
        return self.finish(env, max_steps)

    def finish(self, env: GridWorld, max_steps: int | None = None) -> Episode:
        """Play the begun episode to its end (a run stepped move by move goes on from where it was)."""
        limit = max_steps or env.max_steps
        while not self._done and len(self.walk.path) <= limit:
            self.move(env)
        self._done = True
        walk = self.walk
        walk.reached_goal = bool(env.cells.flat[self._state] == GOAL)
        return walk


def _backup(model, v: np.ndarray, gamma: float) -> np.ndarray:
    """Q(s, a) = Σ p · (r + γ · V(s′)) over the model's outcomes (V of a finished episode is 0)."""
    q = np.zeros((len(model), 4))
    for s, per_action in enumerate(model):
        for a, outcomes in enumerate(per_action):
            q[s, a] = sum(p * (r + (0.0 if done else gamma * v[nxt])) for p, nxt, r, done in outcomes)
    return q


def q_from_v(env: GridWorld, v: np.ndarray, gamma: float) -> np.ndarray:
    """One-step lookahead: the action values that V implies (greedy arrows of a DP view)."""
    return _backup(env.transitions(), v, gamma)


def value_iteration_sweeps(env: GridWorld, gamma: float, theta: float = 1e-10,
                           max_sweeps: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
    """Yields (V, Q, largest change) after each sweep until the change is below ``theta``."""
    model = env.transitions()
    v = np.zeros(env.n_states)
    for _ in range(max_sweeps):
        q = _backup(model, v, gamma)
        new_v = np.where(_blocked(env), 0.0, q.max(1))
        delta = float(np.abs(new_v - v).max())
        v = new_v
        yield v.copy(), q, delta
        if delta < theta:
            return


def policy_evaluation_sweeps(env: GridWorld, policy: np.ndarray, gamma: float, theta: float = 1e-10,
                             max_sweeps: int = 10_000, v0: np.ndarray | None = None
                             ) -> Iterator[tuple[np.ndarray, float]]:
    """Iterative policy evaluation of ``policy`` ([state, action] probabilities): (V, change) per sweep,
    starting from ``v0`` (zeros by default; policy iteration starts from the previous policy's V)."""
    model = env.transitions()
    v = np.zeros(env.n_states) if v0 is None else np.array(v0, dtype=np.float64)
    for _ in range(max_sweeps):
        new_v = np.where(_blocked(env), 0.0, (policy * _backup(model, v, gamma)).sum(1))
        delta = float(np.abs(new_v - v).max())
        v = new_v
        yield v.copy(), delta
        if delta < theta:
            return


def _last(sweeps):
    """The final sweep's result (the sweeps stop once converged)."""
    return deque(sweeps, maxlen=1)[0]


def solve(env: GridWorld, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """V* and Q* of the true model."""
    v, q, _ = _last(value_iteration_sweeps(env, gamma))
    return v, q


def evaluate_policy(env: GridWorld, policy: np.ndarray, gamma: float) -> np.ndarray:
    return _last(policy_evaluation_sweeps(env, policy, gamma))[0]


def random_policy(env: GridWorld) -> np.ndarray:
    return np.full((env.n_states, 4), 0.25)


ARROWS = {"^": 0, "u": 0, "↑": 0, ">": 1, "r": 1, "→": 1, "v": 2, "d": 2, "↓": 2, "<": 3, "l": 3, "←": 3}


class PolicyError(ValueError):
    """Arrows that do not describe a policy on this grid (the message names the row and column)."""


def arrows_policy(env: GridWorld, text: str) -> np.ndarray:
    """The policy a teacher writes as arrows, one row of the grid per word: ``>>v ^.v``.

    ``^ > v <`` (or ``U R D L``, or ``↑ → ↓ ←``) pick that move in the cell; any other mark (``.``) and cells
    past the end of a row or past the last row keep the equiprobable random choice."""
    policy = random_policy(env)
    rows = text.replace("/", " ").split()
    if len(rows) > env.height:
        raise PolicyError(f"{len(rows)} rows of arrows for a grid of {env.height} rows")
    for r, row in enumerate(rows):
        if len(row) > env.width:
            raise PolicyError(f"row {r + 1} has {len(row)} arrows for a grid {env.width} cells wide")
        for c, mark in enumerate(row):
            a = ARROWS.get(mark.lower())
            if a is not None:
                policy[r * env.width + c] = np.eye(4)[a]
    return policy


def improve(env: GridWorld, policy: np.ndarray, v: np.ndarray, gamma: float) -> tuple[np.ndarray, bool]:
    """Policy improvement: greedy in the one-step lookahead of ``v``; a state keeps its action while that
    action still ties for the best (so ties never make policy iteration flip forever). Returns the new
    deterministic policy and whether it equals ``policy``."""
    q = q_from_v(env, v, gamma)
    new = np.zeros_like(policy)
    for s in range(env.n_states):
        best = greedy_actions(q[s])
        kept = [a for a in np.flatnonzero(policy[s] > 0) if a in best]
        new[s, kept[0] if len(kept) == 1 and policy[s, kept[0]] == 1.0 else best[0]] = 1.0
    playable = ~_blocked(env)
    return new, bool(np.array_equal(new[playable], policy[playable]))


def greedy_policy(q: np.ndarray) -> np.ndarray:
    """Deterministic greedy policy, ties broken towards the first action (as argmax does)."""
    policy = np.zeros_like(q)
    policy[np.arange(len(q)), q.argmax(1)] = 1.0
    return policy


def _blocked(env: GridWorld) -> np.ndarray:
    return np.array([env.terminal(s) or env.cells.flat[s] == WALL for s in range(env.n_states)])


def greedy_return(env: GridWorld, q: np.ndarray, start: int | None = None) -> float:
    """Undiscounted return of following argmax Q from the start with slip off (capped at max_steps)."""
    state = env.start if start is None else start
    total = 0.0
    for _ in range(env.max_steps):
        state, reward, done = env.outcome(state, int(q[state].argmax()))
        total += reward
        if done:
            break
    return total


def optimality(env: GridWorld, q: np.ndarray, gamma: float,
               solved: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, float]:
    """How good the greedy policy of ``q`` is, judged by value iteration of the true model.

    ``optimal_action_share``: share of playable states whose greedy action is optimal under Q*.
    ``v_error``: mean |max Q − V*| over those states. ``greedy_return``: see :func:`greedy_return`.
    """
    v_star, q_star = solved or solve(env, gamma)
    states = [s for s in env.starts if not env.terminal(s)]
    scale = max(1.0, float(np.abs(q_star).max()))
    good = sum(q_star[s, int(q[s].argmax())] >= q_star[s].max() - 1e-6 * scale for s in states)
    n = max(1, len(states))
    return {"optimal_action_share": good / n,
            "v_error": float(np.mean([abs(q[s].max() - v_star[s]) for s in states])) if states else 0.0,
            "greedy_return": greedy_return(env, q)}
