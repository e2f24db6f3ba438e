"""What the recipes on gymnasium's classic control tasks share (control DQN, REINFORCE).

The user's graph maps one observation to one output per action (Q-values or policy logits). This
module owns the task's settings, the environments, the graph's shape checks, the greedy evaluation
and the control view, so that both paradigms measure and show a run the same way.
Why gymnasium: the maintained home of these environments, with their exact dynamics and limits.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import torch

from studio.train.build import ModelError
from studio.train.recipes.base import Recipe
from studio.train.recipes.registry import MetricSpec
from studio.train.settings import Bool, Float, Int, S, Section

#: RecipeSpec fields every classic-control paradigm shares (what it uses, what it shows, no train.py)
SPEC_FIELDS: dict[str, Any] = {"uses": ("optimizer", "schedule", "grad_clip", "nodes", "init"),
                               "monitor": "val_greedy_return", "unit": "episodes", "roles": ("prediction",),
                               "views": ("control",), "export": False}


def evaluation_metrics(greedy_help: str) -> tuple[MetricSpec, ...]:
    """The metrics :meth:`GymControl.evaluate` reports (``greedy_help`` says how the paradigm acts greedily)."""
    return (MetricSpec("greedy_return", "Greedy return", "reward", True, help=greedy_help),
            MetricSpec("greedy_return_min", "Worst greedy return", "reward", True),
            MetricSpec("return_mean20", "Mean return (last 20)", "reward", True))


class GymTaskSettings(Section):
    """The classic-control task, how long to play it and how to measure it (shared by its paradigms)."""

    env: Literal["CartPole-v1", "Acrobot-v1", "MountainCar-v0"] = S(
        "CartPole-v1", title="Environment", help="A gymnasium classic-control task.")
    episodes: Int = S(300, title="Episodes", ge=1, le=1_000_000, help="Episodes in total (spread over the epochs).")
    gamma: Float = S(0.99, title="Discount (γ)", ge=0.0, le=1.0, help="How much future rewards count.")
    eval_episodes: Int = S(10, title="Evaluation episodes", ge=1, le=1000,
                           help="Greedy episodes played after each epoch to measure the policy.")
    learning: Bool = S(True, title="Learning", help="Off: the agent only plays what it has learned.")


class GymControl(Recipe):
    """A recipe whose graph reads a classic-control observation and returns one value per action."""

    unit = "episodes"
    monitor = "val_greedy_return"
    section = ""  # the settings section of the task (``training.<section>``)
    network = ""  # what the graph is to the paradigm, for errors ("the Q-network")
    per_action = ""  # what it returns for each action, for errors ("values")

    @property
    def task(self) -> GymTaskSettings:
        return getattr(self.settings, self.section)

    def setup_task(self) -> int:
        """Make the training and evaluation environments, build and check the graph; returns the observation size."""
        import gymnasium as gym

        c = self.task
        self.env = gym.make(c.env)
        self.eval_env = gym.make(c.env)
        self.model = self.build(self.graph(self.settings.graph))
        if len(self.model.inputs) != 1:
            raise ModelError(f"{self.network} needs exactly one Input; graph '{self.model.name}' has "
                             f"{len(self.model.inputs)}", graph=self.model.name)
        inp = self.model.inputs[0]
        obs_dim = int(self.env.observation_space.shape[0])
        self.n_actions = int(self.env.action_space.n)
        if tuple(inp.shape) != (obs_dim,):
            raise ModelError(f"{c.env} observations have {obs_dim} values; set the Input's shape to [{obs_dim}]",
                             inp.name, inp.node_id, self.model.name)
        with torch.no_grad():
            out = self.forward(self.model, torch.zeros(2, obs_dim, device=self.device))
        if tuple(out.shape) != (2, self.n_actions):
            raise ModelError(f"{self.network} must return {self.n_actions} {self.per_action} (one per action) for "
                             f"{c.env}; it returns {tuple(out.shape[1:])}", graph=self.model.name)
        self.setup_single_model_training()
        self.rng = np.random.default_rng(self.settings.seed)
        self.episode = 0
        self.returns: list[float] = []
        self.last_states: list[np.ndarray] = []
        self.info.update(env=c.env, actions=self.n_actions, observations=obs_dim, episodes=c.episodes)
        return obs_dim

    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(self.task.episodes / self.settings.epochs))

    def samples_per_step(self) -> int:
        return 1

    @torch.no_grad()
    def outputs(self, obs: np.ndarray) -> torch.Tensor:
        """The graph's per-action outputs for one observation, in eval mode."""
        self.model.module.eval()
        return self.forward(self.model, torch.as_tensor(obs, dtype=torch.float32, device=self.device)[None])[0]

    def greedy(self, obs: np.ndarray) -> int:
        return int(self.outputs(obs).argmax())

    def evaluate(self) -> dict[str, float]:
        scores = []
        for k in range(self.task.eval_episodes):
            obs, _ = self.eval_env.reset(seed=10_000 + k)
            total, done = 0.0, False
            while not done:
                obs, r, terminated, truncated, _ = self.eval_env.step(self.greedy(obs))
                total += float(r)
                done = terminated or truncated
            scores.append(total)
        recent = self.returns[-20:]
        return {"val_greedy_return": float(np.mean(scores)), "val_greedy_return_min": float(np.min(scores)),
                "val_return_mean20": float(np.mean(recent)) if recent else 0.0}

    def initial_metrics(self) -> dict[str, float]:
        return {}

    def views(self, quick: bool = False) -> dict[str, Any]:
        states = np.asarray(self.last_states, np.float32)
        return {"control": {"env": self.task.env, "states": states[:: max(1, len(states) // 250)],
                            "returns": {"episodes": np.arange(1, len(self.returns) + 1),
                                        "returns": np.asarray(self.returns, np.float32)}}}

    def extra_state(self) -> dict[str, Any]:
        return {"episode": self.episode, "returns": list(self.returns)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.episode = int(state.get("episode", 0))
        self.returns = [float(v) for v in state.get("returns", [])]
