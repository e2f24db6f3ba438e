"""Reinforcement learning on the gridworld: tabular Q-learning and deep Q-learning (DQN).

One engine step is one episode, so cancel and pause act between episodes (episodes are short:
at most ``rl.grid.max_steps`` moves). ``loss`` is the mean absolute TD error of the episode,
which falls as the values settle.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import field_validator, model_validator

from studio.train.build import ModelError
from studio.train.gridworld import GridError, GridWorld
from studio.train.recipes.base import Recipe
from studio.train.recipes.registry import MetricSpec, RecipeSpec, register
from studio.train.replay import ReplayBuffer
from studio.train.settings import Bool, Float, Int, S, Section, SettingsError, Str

DEFAULT_GRID = ["S...#...", ".##.#.#.", "....#.#.", ".#....#.", ".#.##...", ".#..X.#.", ".##.#.#.", "....#..G"]


class CellReward(Section):
    """One cell reward (a record of ``rl.grid.cell_rewards``, stored as ``[row, column, reward]``)."""

    row: Int = S(0, title="Row", ge=0, le=999, help="Row of the cell, counted from 0 at the top.")
    col: Int = S(0, title="Column", ge=0, le=999, help="Column of the cell, counted from 0 at the left.")
    reward: Float = S(1.0, title="Reward", ge=-1e6, le=1e6, help="Paid every time the agent enters the cell.")


class Teleport(Section):
    """One teleport (a record of ``rl.grid.teleports``, stored as ``[row, column, to row, to column, reward]``)."""

    row: Int = S(0, title="Row", ge=0, le=999, help="Row of the teleport cell, from 0 at the top.")
    col: Int = S(0, title="Col", ge=0, le=999, help="Column of the teleport cell, from 0 at the left.")
    to_row: Int = S(0, title="To row", ge=0, le=999, help="Row the agent lands in.")
    to_col: Int = S(1, title="To col", ge=0, le=999, help="Column the agent lands in.")
    reward: Float = S(10.0, title="Reward", ge=-1e6, le=1e6, help="Paid for the jump.")


def _only(recipes: str, field: Any) -> Any:
    """A setting the form shows only for these paradigms (comma-separated names)."""
    field.json_schema_extra["recipes"] = tuple(recipes.split(","))
    return field


def _records(record: type[Section], **kw: Any) -> Any:
    """A list of records stored positionally (the file keeps ``[row, column, reward]`` rows); the form edits
    it as a table with one checked column per field of ``record``."""
    field = S(factory=list, kind="records", **kw)
    field.json_schema_extra["record"] = record
    return field


def record_rows(record: type[Section], rows: Any) -> list[list[Any]]:
    """Rows checked field by field against ``record``: a bad value is a SettingsError keyed ``<row>.<field>``."""
    if not isinstance(rows, list | tuple):
        raise SettingsError("", "must be a list of rows")
    names = list(record.model_fields)
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, list | tuple) or len(row) != len(names):
            raise SettingsError(str(i), f"entry {i + 1} must be {len(names)} numbers: "
                                        + ", ".join(f.title or n for n, f in record.model_fields.items()))
        try:
            checked = record(**dict(zip(names, row, strict=True)))
        except SettingsError as exc:
            raise SettingsError(f"{i}.{exc.key}", f"entry {i + 1}: {exc.reason}") from None
        out.append([getattr(checked, n) for n in names])
    return out


class GridSettings(Section):
    """The gridworld: its layout, rewards and how slippery it is (``training.rl.grid``)."""

    layout: list[Str] = S(factory=lambda: list(DEFAULT_GRID), title="Grid layout", kind="grid",
                          help="Rows of S start, G goal, # wall, X pit (ends the episode), C cliff (back to start), . free.")
    goal_reward: Float = S(1.0, title="Goal reward", ge=-1e6, le=1e6, help="Reward for reaching G.")
    pit_reward: Float = S(-1.0, title="Pit reward", ge=-1e6, le=1e6, help="Reward for falling into X (ends the episode).")
    cliff_reward: Float = S(-1.0, title="Cliff reward", ge=-1e6, le=1e6, help="Reward for stepping on C (back to start).")
    step_reward: Float = S(-0.01, title="Step reward", ge=-1e6, le=1e6,
                           help="Added every step (a small penalty favours short paths).")
    slip: Float = S(0.0, title="Slip", ge=0.0, le=1.0, help="Probability that a move goes a random way.")
    max_steps: Int = S(0, title="Max steps", ge=0, le=1_000_000, help="Episode length cap (0 = 4 × cells).")
    bump_reward: Float = S(0.0, title="Bump reward", ge=-1e6, le=1e6,
                           help="Reward for moving into the edge or a wall (the agent stays put).")
    cell_rewards: list[list[int | float]] = _records(
        CellReward, title="Cell rewards", help="Rows of row, column (0-based) and reward: paid on entering that cell.")
    teleports: list[list[int | float]] = _records(
        Teleport, title="Teleports", help="Rows of row, column, to row, to column (0-based) and reward: any move "
                                          "from the cell jumps to the target and pays the reward (A → A′).")
    continuing: Bool = S(False, title="Continuing task",
                         help="No terminal state: episodes only end at Max steps; needs γ below 1.")

    @field_validator("cell_rewards", mode="before")
    @classmethod
    def _cell_rewards(cls, rows: Any) -> Any:
        return record_rows(CellReward, rows)

    @field_validator("teleports", mode="before")
    @classmethod
    def _teleports(cls, rows: Any) -> Any:
        return record_rows(Teleport, rows)

    @model_validator(mode="after")
    def _inside_the_grid(self) -> GridSettings:
        """Records name cells of this layout, none of them a wall (refused at the record's field)."""
        rows = [str(r) for r in self.layout]
        if not rows or any(len(r) != len(rows[0]) for r in rows):
            return self  # the layout's own problem: the gridworld names it
        for name, spots in (("cell_rewards", ((0, 1),)), ("teleports", ((0, 1), (2, 3)))):
            for i, rec in enumerate(getattr(self, name)):
                for r_at, c_at in spots:
                    r, c = int(rec[r_at]), int(rec[c_at])
                    field = (("row", "col"), ("to_row", "to_col"))[r_at // 2]
                    if r >= len(rows):
                        raise SettingsError(f"{name}.{i}.{field[0]}",
                                            f"entry {i + 1}: row {r} is off the grid (rows 0 to {len(rows) - 1})")
                    if c >= len(rows[0]):
                        raise SettingsError(f"{name}.{i}.{field[1]}", f"entry {i + 1}: column {c} is off the grid "
                                                                      f"(columns 0 to {len(rows[0]) - 1})")
                    if rows[r][c] == "#":
                        raise SettingsError(f"{name}.{i}.{field[0]}", f"entry {i + 1}: cell ({r}, {c}) is a wall")
        return self


class RLSettings(Section):
    """The reinforcement-learning paradigms' own settings (``training.rl``), shared by both."""

    gamma: Float = S(0.95, title="Discount (γ)", ge=0.0, le=1.0, help="How much future rewards count.")
    lr: Float = S(0.5, title="Tabular learning rate (α)", ge=0.0, le=1.0,
                  help="Tabular learning rate (alpha); DQN uses optimizer.lr.")
    epsilon_start: Float = S(1.0, title="ε at start", ge=0.0, le=1.0, help="Exploration rate of the first episode.")
    epsilon_end: Float = S(0.05, title="ε at end", ge=0.0, le=1.0, help="Exploration rate after the decay.")
    epsilon_decay: Float = S(0.6, title="ε decay share", ge=0.0, le=1.0,
                             help="Share of the episodes over which epsilon decays.")
    episodes: Int = S(600, title="Episodes", ge=1, le=10_000_000, help="Episodes in total (spread over the epochs).")
    replay_size: Int = S(5000, title="Replay buffer", ge=10, le=10_000_000, advanced=True,
                         help="DQN: transitions kept for replay.")
    batch_size: Int = S(64, title="Replay batch", ge=1, le=1_000_000, advanced=True, help="DQN: transitions per update.")
    target_update: Int = S(200, title="Target update every", ge=1, le=10_000_000, advanced=True,
                           help="DQN: env steps between target network copies.")
    warmup: Int = S(200, title="Warm-up steps", ge=0, le=10_000_000, advanced=True,
                    help="DQN: env steps of random play before learning.")
    random_start: Bool = S(True, title="Random start", help="Start episodes in random free cells (explores every state).")
    learning: Bool = S(True, title="Learning", help="Update the values after every move; off: the agent "
                                                    "only plays what it has learned so far.")
    policy: Literal["random", "arrows", "greedy"] = _only("policy_evaluation", S(
        "random", title="Policy evaluated",
        help="Policy evaluation: random = each move with probability ¼ (Sutton & Barto 4.1); arrows = the policy "
             "written in Policy arrows; greedy = policy iteration: evaluate, make the policy greedy in those values, "
             "evaluate again, until the policy no longer changes (starts from the arrows, random where none)."))
    policy_arrows: Str = _only("policy_evaluation", S("", title="Policy arrows",
                           help="Policy evaluation: one word per grid row, one mark per cell: ^ > v < (or U R D L) "
                                "for that move, . for a random move; missing cells move at random. Example: >>v ^.v"))
    grid: GridSettings = S(factory=GridSettings)

    @model_validator(mode="after")
    def _arrows_fit_the_grid(self) -> RLSettings:
        """Policy arrows are refused at their field when they do not fit the layout."""
        rows = self.policy_arrows.replace("/", " ").split()
        layout = [str(r) for r in self.grid.layout]
        if rows and layout:
            if len(rows) > len(layout):
                raise SettingsError("policy_arrows", f"{len(rows)} rows of arrows for a grid of {len(layout)} rows")
            for i, row in enumerate(rows):
                if len(row) > len(layout[0]):
                    raise SettingsError("policy_arrows", f"row {i + 1} has {len(row)} arrows for a grid "
                                                         f"{len(layout[0])} cells wide")
        return self


def _rows(rows: list[list[float]], width: int, key: str) -> list[tuple]:
    for i, row in enumerate(rows):
        if len(row) != width or any(not float(v).is_integer() for v in row[:width - 1]):
            raise SettingsError(key, f"row {i + 1} must be {width} numbers, the first {width - 1} whole")
    return [tuple(int(v) for v in row[:-1]) + (float(row[-1]),) for row in rows]


def make_grid_env(settings: Any) -> GridWorld:
    """The gridworld ``training.rl.grid`` describes; a bad value is a SettingsError at its key."""
    g, rl = settings.rl.grid, settings.rl
    if g.continuing and rl.gamma >= 1.0:
        raise SettingsError("rl.gamma", "a continuing task needs a discount below 1")
    try:
        return GridWorld(g.layout, g.goal_reward, g.pit_reward, g.cliff_reward, g.step_reward, g.slip,
                         g.max_steps, settings.seed, bump_reward=g.bump_reward,
                         cell_rewards=_rows(g.cell_rewards, 3, "rl.grid.cell_rewards"),
                         teleports=_rows(g.teleports, 5, "rl.grid.teleports"), continuing=g.continuing)
    except GridError as exc:
        key = "rl.grid.teleports" if "teleport" in str(exc) else \
            "rl.grid.cell_rewards" if "cell reward" in str(exc) else "rl.grid.layout"
        raise SettingsError(key, str(exc)) from exc


class _GridRecipe(Recipe):
    unit = "episodes"
    monitor = "val_optimal_paths"

    def make_env(self) -> GridWorld:
        return make_grid_env(self.settings)

    def setup_common(self) -> None:
        self.env = self.make_env()
        self.rng = np.random.default_rng(self.settings.seed)
        self.episode = 0
        self.returns: list[float] = []
        self.lengths: list[int] = []
        self.last_path: list[int] = []
        self.last_move: Any = None  # the move of a run stepped move by move (tabular.Move), shown with its update
        self.info.update(grid=[self.env.height, self.env.width], states=self.env.n_states,
                         episodes=self.settings.rl.episodes)

    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(self.settings.rl.episodes / self.settings.epochs))

    def by_move(self) -> bool:
        """The driver steps single moves (Step move): each engine step plays one move of the episode, and
        the stepped moves count against the run's steps as episodes would."""
        control = getattr(self, "control", None)
        return bool(control is not None and getattr(control, "by_move", False))

    def move_metrics(self, move: Any, path: list[int]) -> dict[str, float]:
        """A stepped move that did not end its episode: the trail so far, and |TD error| as the loss."""
        self.last_move, self.last_path = move, list(path)
        return {"loss": abs(move.target - move.old)}

    def samples_per_step(self) -> int:
        return 1

    def epsilon(self) -> float:
        rl = self.settings.rl
        span = max(1.0, rl.epsilon_decay * rl.episodes)
        frac = min(1.0, self.episode / span)
        return rl.epsilon_start + (rl.epsilon_end - rl.epsilon_start) * frac

    def start_state(self) -> int:
        if self.settings.rl.random_start:
            return int(self.rng.choice(self.env.starts))
        return self.env.start

    def q_values(self) -> np.ndarray:
        raise NotImplementedError

    def act(self, state: int, eps: float) -> int:
        if self.rng.random() < eps:
            return int(self.rng.integers(4))
        return self.greedy(state)

    def greedy(self, state: int) -> int:
        raise NotImplementedError

    def finish_episode(self, ret: float, length: int, success: bool, path: list[int]) -> dict[str, float]:
        self.episode += 1
        self.returns.append(ret)
        self.lengths.append(length)
        self.last_path = path
        return {"return": ret, "length": float(length), "success": float(success), "epsilon": self.epsilon()}

    def evaluate(self) -> dict[str, float]:
        q = self.q_values()
        quality = self.env.policy_quality(q)
        path = self.env.greedy_path(q.argmax(1))
        reached = self.env.cells.flat[path[-1]] == 2
        recent = self.returns[-50:]
        judged = self.optimality(q)
        return {"val_optimal_actions": quality["optimal_actions"], "val_optimal_paths": quality["optimal_paths"],
                "val_success": float(reached), "val_path_length": float(len(path) - 1),
                "val_return_mean50": float(np.mean(recent)) if recent else 0.0,
                "val_greedy_return": judged["greedy_return"],
                "val_optimal_action_share": judged["optimal_action_share"], "val_v_error": judged["v_error"]}

    def optimality(self, q: np.ndarray) -> dict[str, float]:
        """Greedy policy judged by value iteration of the true model (slip included), solved once per run."""
        from studio.train import tabular

        if getattr(self, "_solved", None) is None:
            self._solved = tabular.solve(self.env, self.settings.rl.gamma)
        return tabular.optimality(self.env, q, self.settings.rl.gamma, self._solved)

    def views(self, quick: bool = False) -> dict[str, Any]:
        q = self.q_values()
        values = q.max(1).reshape(self.env.height, self.env.width).astype(np.float32)
        actions = q.argmax(1).reshape(self.env.height, self.env.width)
        blocked = (self.env.cells == 1) | (self.env.cells == 2) | (self.env.cells == 3)
        actions = np.where(blocked, -1, actions)
        values = np.where(self.env.cells == 1, np.nan, values)
        path = [divmod(int(s), self.env.width) for s in self.last_path]
        agent = self.last_path[-1] if self.last_path else None
        move = self.last_move
        stepped = None if move is None else {
            "from": divmod(move.state, self.env.width), "action": move.action, "reward": move.reward,
            "to": divmod(move.next_state, self.env.width), "done": move.done, "old": move.old,
            "target": move.target, "new": move.new, "alpha": move.alpha, "gamma": self.settings.rl.gamma}
        return {
            "gridworld": {"cells": self.env.cells.copy(), "values": values, "actions": actions, "path": path,
                          "move": stepped,
                          "q": q.reshape(self.env.height, self.env.width, 4).astype(np.float32),
                          "teleports": [(*divmod(src, self.env.width), *divmod(dst, self.env.width), reward)
                                        for src, (dst, reward) in self.env.teleports.items()],
                          "image": self.env.render(agent=agent, path=self.last_path)},
            "returns": {"episodes": np.arange(1, len(self.returns) + 1), "returns": np.asarray(self.returns, np.float32),
                        "lengths": np.asarray(self.lengths, np.int64)},
        }

    def common_state(self) -> dict[str, Any]:
        return {"episode": self.episode, "returns": list(self.returns), "lengths": list(self.lengths),
                "rng": self.rng.bit_generator.state["state"]["state"] % (2**63)}

    def load_common_state(self, state: dict[str, Any]) -> None:
        self.episode = int(state.get("episode", 0))
        self.returns = [float(v) for v in state.get("returns", [])]
        self.lengths = [int(v) for v in state.get("lengths", [])]
        self.rng = np.random.default_rng(int(state.get("rng", self.settings.seed)) + self.episode)


class TabularQ(_GridRecipe):
    """Q(s, a) += lr · (r + γ · max Q(s', ·) − Q(s, a)), epsilon-greedy with linear decay."""

    def setup(self) -> None:
        self.setup_common()
        self.q = np.zeros((self.env.n_states, 4), dtype=np.float64)

    def q_values(self) -> np.ndarray:
        return self.q

    def greedy(self, state: int) -> int:
        row = self.q[state]
        best = np.flatnonzero(row == row.max())
        return int(best[0] if len(best) == 1 else self.rng.choice(best))

    def begin(self) -> None:
        """Start an episode that :meth:`move` plays one move at a time."""
        s = self.env.reset(self.start_state())
        self.walk = {"state": s, "eps": self.epsilon(), "ret": 0.0, "td": 0.0, "n": 0, "path": [s], "done": False}

    def move(self) -> Any:
        """One ε-greedy move and its Q-learning update."""
        from studio.train.tabular import Move

        rl, env, q, w = self.settings.rl, self.env, self.q, self.walk
        s = w["state"]
        a = self.act(s, w["eps"])
        s2, r, done = env.step(a)
        target = r if env.terminal(s2) else r + rl.gamma * q[s2].max()
        old = float(q[s, a])
        if rl.learning:
            q[s, a] += rl.lr * (target - old)
        w["td"] += abs(target - old)
        w["ret"] += r
        w["n"] += 1
        w["state"], w["done"] = s2, done
        w["path"].append(s2)
        return Move(s, a, float(r), s2, done, old, float(target), float(q[s, a]), rl.lr)

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        walking = getattr(self, "walk", None) is not None and not self.walk["done"]
        if self.by_move():
            if not walking:
                self.begin()
            move = self.move()
            if not self.walk["done"]:
                return self.move_metrics(move, self.walk["path"])
            self.last_move = move
        else:
            self.last_move = None
            if not walking:
                self.begin()
            while not self.walk["done"]:
                self.move()
        w = self.walk
        metrics = self.finish_episode(w["ret"], w["n"], self.env.cells.flat[w["state"]] == 2, w["path"])
        metrics["loss"] = w["td"] / max(1, w["n"])
        return metrics

    def extra_state(self) -> dict[str, Any]:
        return {"q": torch.from_numpy(self.q.copy()), **self.common_state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "q" in state:
            self.q = state["q"].numpy().astype(np.float64)
        self.load_common_state(state)


class DQN(_GridRecipe):
    """The user's graph is the Q-network: replay buffer, target network, epsilon-greedy with decay."""

    def setup(self) -> None:
        self.setup_common()
        s = self.settings
        self.model = self.build(self.graph(s.graph))
        if len(self.model.inputs) != 1:
            raise ModelError(f"the Q-network needs exactly one Input; graph '{self.model.name}' has "
                             f"{len(self.model.inputs)}", graph=self.model.name)
        inp = self.model.inputs[0]
        try:
            self.obs = torch.from_numpy(self.env.encode(inp.shape)).to(self.device)
        except GridError as exc:
            raise ModelError(str(exc), inp.name, inp.node_id, self.model.name) from exc
        with torch.no_grad():
            out = self.forward(self.model, self.obs[:2])
        if tuple(out.shape) != (2, 4):
            raise ModelError(f"the Q-network must return 4 values per state (up, right, down, left); it returns "
                             f"{tuple(out.shape[1:])}", graph=self.model.name)
        self.setup_single_model_training()
        self.target = copy.deepcopy(self.model.module).eval()
        size = s.rl.replay_size
        self.replay = ReplayBuffer(size)  # gridworld states as indices into self.obs
        self.env_steps = 0
        self._q_cache: np.ndarray | None = None

    @torch.no_grad()
    def q_values(self) -> np.ndarray:
        if self._q_cache is None:
            self.model.module.eval()
            self._q_cache = self.model.predict(self.obs).float().cpu().numpy()
        return self._q_cache

    def greedy(self, state: int) -> int:
        return int(self.q_values()[state].argmax())

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        rl = self.settings.rl
        env = self.env
        s = env.reset(self.start_state())
        eps = self.epsilon()
        ret, n, done, path, losses = 0.0, 0, False, [s], []
        while not done:
            a = self.act(s, eps)
            s2, r, done = env.step(a)
            terminal = env.terminal(s2)
            self.replay.add(s, a, r, s2, terminal)
            self.env_steps += 1
            if rl.learning and self.env_steps >= rl.warmup and self.replay.filled >= rl.batch_size:
                losses.append(self._learn())
            if self.env_steps % rl.target_update == 0:
                self.target.load_state_dict(self.model.module.state_dict())
            ret += r
            n += 1
            s = s2
            path.append(s)
        metrics = self.finish_episode(ret, n, env.cells.flat[s] == 2, path)
        metrics["loss"] = float(np.mean(losses)) if losses else 0.0
        return metrics

    def _learn(self) -> float:
        rl = self.settings.rl
        s, a, r, s2, d = self.replay.sample(self.rng, rl.batch_size, self.device)
        s, s2 = self.obs[s], self.obs[s2]
        self.train_mode(self.model)
        q = self.forward(self.model, s).float().gather(1, a[:, None])[:, 0]
        with torch.no_grad():
            nxt = self.target(s2)
            nxt = (nxt[self.model.prediction_index] if isinstance(nxt, tuple | list) else nxt).float().max(1).values
            target = r + rl.gamma * (1 - d) * nxt
        loss = F.smooth_l1_loss(q, target)
        value = self.check_finite(loss)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.module.parameters(), self.settings.grad_clip or 10.0)
        self.optimizer.step()
        self.schedule.after_step()
        self._q_cache = None
        return value

    def extra_state(self) -> dict[str, Any]:
        return {"target": {k: v.detach().cpu() for k, v in self.target.state_dict().items()},
                "env_steps": self.env_steps, **self.common_state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "target" in state:
            self.target.load_state_dict(state["target"])
        self.env_steps = int(state.get("env_steps", 0))
        self.load_common_state(state)
        self._q_cache = None


RL_METRICS = (
    MetricSpec("return", "Return", "reward", True, help="Sum of rewards over an episode."),
    MetricSpec("length", "Episode length", "steps"),
    MetricSpec("success", "Goal reached", "share", True),
    MetricSpec("epsilon", "Exploration (ε)", plot="none"),
    MetricSpec("optimal_actions", "Optimal actions", "share", True),
    MetricSpec("optimal_paths", "Optimal paths", "share", True),
    MetricSpec("path_length", "Greedy path length", "steps"),
    MetricSpec("return_mean50", "Mean return (last 50)", "reward", True),
    MetricSpec("greedy_return", "Greedy return", "reward", True,
               help="Return of following the greedy policy from the start, slip off."),
    MetricSpec("optimal_action_share", "Optimal-action share", "share", True,
               help="States whose greedy action is optimal by value iteration of the true grid (slip included)."),
    MetricSpec("v_error", "Value error", "reward",
               help="Mean |max Q − V*| over the playable states, V* from value iteration."),
)

register(RecipeSpec(
    name="q_learning_tabular",
    label="Q-learning (table)",
    help="A table of action values learned from episodes in the gridworld; the graph is not trained.",
    factory=TabularQ,
    settings=RLSettings,
    section="rl",
    group="Reinforcement learning",
    uses=(),
    metrics=RL_METRICS,
    monitor="val_optimal_paths",
    unit="episodes",
    roles=(),
    views=("gridworld", "returns"),
    export=True,
))

register(RecipeSpec(
    name="dqn",
    label="Deep Q-learning",
    help="The graph is the Q-network: replay buffer, target network and ε-greedy exploration in the gridworld.",
    factory=DQN,
    settings=RLSettings,
    section="rl",
    group="Reinforcement learning",
    uses=("optimizer", "schedule", "grad_clip", "nodes", "init", "amp"),
    metrics=RL_METRICS,
    monitor="val_optimal_paths",
    unit="episodes",
    roles=("prediction",),
    views=("gridworld", "returns"),
    export=False,
))
