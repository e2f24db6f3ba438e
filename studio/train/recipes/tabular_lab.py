"""More tabular paradigms on the gridworld: SARSA, Expected SARSA, value iteration, policy evaluation.

They share the gridworld, its settings (``training.rl``), episodes, views and the value-iteration
judge with tabular Q-learning (:mod:`studio.train.recipes.rl`); the update rules live in
:mod:`studio.train.tabular`. TD recipes play one episode per engine step; the dynamic-programming
recipes do one sweep over all states per step, so a slowed run shows the values spread.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from studio.train import tabular
from studio.train.recipes.registry import MetricSpec, RecipeSpec, register
from studio.train.recipes.rl import RL_METRICS, RLSettings, _GridRecipe
from studio.train.settings import SettingsError


class TDControl(_GridRecipe):
    """ε-greedy TD control with the update rule named by ``algorithm`` (see :class:`tabular.TDAgent`)."""

    algorithm = "sarsa"

    def setup(self) -> None:
        self.setup_common()
        rl = self.settings.rl
        self.agent = tabular.TDAgent(self.env.n_states, self.algorithm, rl.lr, rl.gamma, self.epsilon(),
                                     self.settings.seed)

    def q_values(self) -> np.ndarray:
        return self.agent.q

    def greedy(self, state: int) -> int:
        return int(self.agent.q[state].argmax())

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        rl = self.settings.rl
        agent = self.agent
        agent.alpha, agent.gamma, agent.epsilon, agent.learning = rl.lr, rl.gamma, self.epsilon(), rl.learning
        if not agent.walking:
            agent.begin(self.env, self.start_state())
            self._td = 0.0
        if self.by_move():
            move = agent.move(self.env)
            self._td += abs(move.target - move.old)
            if agent.walking:
                return self.move_metrics(move, agent.walk.path)
            self.last_move = move
        else:
            self.last_move = None
            before = agent.q.copy()
            agent.finish(self.env)
            self._td += float(np.abs(agent.q - before).sum() / max(agent.alpha, 1e-12))
        episode = agent.walk
        metrics = self.finish_episode(episode.ret, episode.length, episode.reached_goal, episode.path)
        metrics["loss"] = self._td / max(1, episode.length)
        return metrics

    def extra_state(self) -> dict[str, Any]:
        return {"q": torch.from_numpy(self.agent.q.copy()), "agent_rng": self.agent.rng.bit_generator.state,
                **self.common_state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "q" in state:
            self.agent.q = state["q"].numpy().astype(np.float64)
        if "agent_rng" in state:
            self.agent.rng.bit_generator.state = state["agent_rng"]
        self.load_common_state(state)


class Sarsa(TDControl):
    """Q(s, a) += α · (r + γ · Q(s′, a′) − Q(s, a)), a′ the action actually taken next (on-policy)."""

    algorithm = "sarsa"


class ExpectedSarsa(TDControl):
    """Q(s, a) += α · (r + γ · Σ π(a′|s′) Q(s′, a′) − Q(s, a)), the expectation under ε-greedy π."""

    algorithm = "expected_sarsa"


class _Sweeps(_GridRecipe):
    """One engine step is one sweep over every state; after convergence the remaining steps are free."""

    sweeps_cap = 1000

    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(min(self.settings.rl.episodes, self.sweeps_cap) / self.settings.epochs))

    def setup(self) -> None:
        self.setup_common()
        self.v = np.zeros(self.env.n_states)
        self.q = np.zeros((self.env.n_states, 4))
        self.sweep = 0
        self.delta = math.inf
        self.sweeps = self.make_sweeps()

    def q_values(self) -> np.ndarray:
        return self.q

    def greedy(self, state: int) -> int:
        return int(self.q[state].argmax())

    @property
    def converged(self) -> bool:
        return self.delta < 1e-10

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        if not self.converged:
            self.advance()
            self.sweep += 1
        self.returns.append(self.v[self.env.start])
        self.lengths.append(self.sweep)
        return {"loss": float(self.delta), "sweeps": float(self.sweep), "start_value": float(self.v[self.env.start])}

    def evaluate(self) -> dict[str, float]:
        metrics = super().evaluate()
        v_star = self._solved[0] if getattr(self, "_solved", None) is not None else None
        states = [s for s in self.env.starts if not self.env.terminal(s)]
        if v_star is not None and states:
            metrics["val_v_error"] = float(np.mean(np.abs(self.v[states] - v_star[states])))
        return metrics

    def views(self, quick: bool = False) -> dict[str, Any]:
        out = super().views(quick)
        values = np.where(self.env.cells == 1, np.nan, self.v.reshape(self.env.height, self.env.width))
        out["gridworld"]["values"] = values.astype(np.float32)
        out["gridworld"]["sweep"] = self.sweep
        return out

    def extra_state(self) -> dict[str, Any]:
        return {"v": torch.from_numpy(self.v.copy()), "sweep": self.sweep, **self.common_state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.load_common_state(state)
        for _ in range(int(state.get("sweep", 0))):  # replay the sweeps: deterministic, and cheap on a grid
            if self.converged:
                break
            self.advance()
            self.sweep += 1


class ValueIteration(_Sweeps):
    """V(s) ← max_a Σ p · (r + γ V(s′)): the Bellman optimality backup, sweep by sweep."""

    def make_sweeps(self):
        return tabular.value_iteration_sweeps(self.env, self.settings.rl.gamma)

    def advance(self) -> None:
        try:
            self.v, self.q, self.delta = next(self.sweeps)
        except StopIteration:
            self.delta = 0.0


class PolicyEvaluation(_Sweeps):
    """V(s) ← Σ_a π(a|s) Σ p · (r + γ V(s′)), one sweep per step, for the policy ``rl.policy`` names.

    ``random``: the equiprobable policy (Sutton & Barto 4.1). ``arrows``: the policy a teacher writes in
    ``rl.policy_arrows``. ``greedy``: policy iteration (4.3): once the evaluation settles, the policy becomes
    greedy in its values and the next evaluation starts from them, until the policy stops changing. The view's
    arrows are the evaluated policy (for ``random``: the greedy arrows of V, the book's Figure 4.1)."""

    def start_policy(self) -> np.ndarray:
        rl = self.settings.rl
        if rl.policy == "random" or not rl.policy_arrows.strip():
            return tabular.random_policy(self.env)
        try:
            return tabular.arrows_policy(self.env, rl.policy_arrows)
        except tabular.PolicyError as exc:
            raise SettingsError("rl.policy_arrows", str(exc)) from exc

    def make_sweeps(self):
        self.policy = self.start_policy()
        self.improvements = 0
        self.stable = self.settings.rl.policy != "greedy"
        return self._evaluate()

    def _evaluate(self):
        return tabular.policy_evaluation_sweeps(self.env, self.policy, self.settings.rl.gamma, v0=self.v)

    @property
    def converged(self) -> bool:
        return self.delta < 1e-10 and self.stable

    def advance(self) -> None:
        gamma = self.settings.rl.gamma
        if self.delta < 1e-10 and not self.stable:  # evaluated: improve the policy, evaluate the new one
            self.policy, self.stable = tabular.improve(self.env, self.policy, self.v, gamma)
            if self.stable:
                return
            self.improvements += 1
            self.sweeps = self._evaluate()
        try:
            self.v, self.delta = next(self.sweeps)
        except StopIteration:
            self.delta = 0.0
            return
        self.q = tabular.q_from_v(self.env, self.v, gamma)

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        metrics = super().train_step(epoch, index)
        metrics["improvements"] = float(self.improvements)
        return metrics

    def views(self, quick: bool = False) -> dict[str, Any]:
        out = super().views(quick)
        if self.settings.rl.policy != "random":
            h, w = self.env.height, self.env.width
            out["gridworld"]["policy"] = (self.policy > 0).reshape(h, w, 4)
        out["gridworld"]["improvements"] = self.improvements
        return out


SWEEP_METRICS = RL_METRICS + (
    MetricSpec("sweeps", "Sweeps", "sweeps", plot="none"),
    MetricSpec("start_value", "Value of the start", "reward", True),
)
EVALUATION_METRICS = SWEEP_METRICS + (
    MetricSpec("improvements", "Policy improvements", "steps", plot="none",
               help="Policy iteration: how often the evaluated policy was made greedy in its values."),
)


def _register(name: str, label: str, factory: type, help: str, metrics=RL_METRICS,
              monitor: str = "val_optimal_action_share") -> None:
    register(RecipeSpec(name=name, label=label, help=help, factory=factory, settings=RLSettings, section="rl",
                        group="Reinforcement learning", uses=(), metrics=metrics, monitor=monitor,
                        unit="episodes" if metrics is RL_METRICS else "sweeps", roles=(),
                        views=("gridworld", "returns"), export=False))


_register("sarsa", "SARSA (table)", Sarsa,
          "On-policy TD control: learns the values of the ε-greedy policy it follows (safer near cliffs).")
_register("expected_sarsa", "Expected SARSA (table)", ExpectedSarsa,
          "TD control on the ε-greedy expectation of the next values: SARSA's safety with less variance.")
_register("value_iteration", "Value iteration", ValueIteration,
          "Dynamic programming on the known grid: the Bellman optimality backup, one sweep per step.",
          SWEEP_METRICS, "val_optimal_action_share")
_register("policy_evaluation", "Policy evaluation", PolicyEvaluation,
          "Dynamic programming: the values of a policy (random, your arrows, or policy iteration from them), "
          "one sweep per step.", EVALUATION_METRICS, "val_v_error")
