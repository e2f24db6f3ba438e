"""Deep Q-learning on gymnasium's classic control tasks (CartPole, Acrobot, MountainCar).

The user's graph is the Q-network (observation in, one value per action out), trained from a
replay buffer against a target network (Mnih et al., 2015), optionally with the Double DQN target
(van Hasselt et al., 2016). One engine step is one episode; after each epoch the greedy policy plays
``eval_episodes`` fresh episodes, whose mean return is the quality bar (CartPole-v1: 475 of 500).
Why gymnasium: the maintained home of these environments, with their exact dynamics and limits.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from studio.train.recipes.gym_control import SPEC_FIELDS, GymControl, GymTaskSettings, evaluation_metrics
from studio.train.recipes.registry import MetricSpec, RecipeSpec, register
from studio.train.replay import ReplayBuffer
from studio.train.settings import Bool, Float, Int, S

ENVS = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0")


class ControlSettings(GymTaskSettings):
    """The classic-control task and the DQN's own settings (``training.control``)."""

    epsilon_start: Float = S(1.0, title="ε at start", ge=0.0, le=1.0, help="Exploration rate at first.")
    epsilon_end: Float = S(0.02, title="ε at end", ge=0.0, le=1.0, help="Exploration rate after the decay.")
    epsilon_steps: Int = S(10_000, title="ε decay steps", ge=1, le=100_000_000,
                           help="Environment steps over which ε falls from start to end.")
    replay_size: Int = S(50_000, title="Replay buffer", ge=100, le=10_000_000, advanced=True,
                         help="Transitions kept for replay.")
    batch_size: Int = S(64, title="Replay batch", ge=1, le=100_000, advanced=True, help="Transitions per update.")
    warmup: Int = S(1000, title="Warm-up steps", ge=0, le=10_000_000, advanced=True,
                    help="Environment steps of random play before learning starts.")
    train_every: Int = S(1, title="Learn every", ge=1, le=1000, advanced=True,
                         help="Environment steps between two replay updates.")
    target_update: Int = S(500, title="Target update every", ge=1, le=10_000_000, advanced=True,
                           help="Environment steps between copies into the target network.")
    tau: Float = S(0.0, title="Soft target update (τ)", ge=0.0, le=1.0, advanced=True,
                   help="After every update move the target network this share towards the online one "
                        "(0: copy it every 'Target update every' steps instead).")
    double: Bool = S(True, title="Double DQN", help="Pick the next action with the online network, value it with "
                                                    "the target network (less overestimation).")


class ControlDQN(GymControl):
    section = "control"
    network = "the Q-network"
    per_action = "values"

    def setup(self) -> None:
        obs_dim = self.setup_task()
        self.target = copy.deepcopy(self.model.module).eval()
        self.replay = ReplayBuffer(self.settings.control.replay_size, (obs_dim,), np.float32)
        self.env_steps = 0

    def epsilon(self) -> float:
        c = self.settings.control
        frac = min(1.0, self.env_steps / c.epsilon_steps)
        return c.epsilon_start + (c.epsilon_end - c.epsilon_start) * frac

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        c = self.settings.control
        obs, _ = self.env.reset(seed=int(self.rng.integers(2**31)))
        ret, losses, states, done = 0.0, [], [obs], False
        while not done:
            a = int(self.rng.integers(self.n_actions)) if self.rng.random() < self.epsilon() else self.greedy(obs)
            nxt, r, terminated, truncated, _ = self.env.step(a)
            self.replay.add(obs, a, r, nxt, terminated)  # a time limit is not a terminal state
            self.env_steps += 1
            if (c.learning and self.env_steps >= c.warmup and self.replay.filled >= c.batch_size
                    and self.env_steps % c.train_every == 0):
                losses.append(self._learn())
            if c.tau > 0:
                if losses and self.env_steps % c.train_every == 0:
                    self._soft_update(c.tau)
            elif self.env_steps % c.target_update == 0:
                self.target.load_state_dict(self.model.module.state_dict())
            ret += float(r)
            obs, done = nxt, terminated or truncated
            states.append(obs)
        self.episode += 1
        self.returns.append(ret)
        self.last_states = states
        return {"loss": float(np.mean(losses)) if losses else 0.0, "return": ret, "length": float(len(states) - 1),
                "epsilon": self.epsilon()}

    def _learn(self) -> float:
        c = self.settings.control
        s, a, r, s2, d = self.replay.sample(self.rng, c.batch_size, self.device)
        self.train_mode(self.model)
        q = self.forward(self.model, s).float().gather(1, a[:, None])[:, 0]
        with torch.no_grad():
            nxt = self._target_out(s2)
            if c.double:
                self.model.module.eval()
                pick = self.forward(self.model, s2).argmax(1, keepdim=True)
                self.train_mode(self.model)
                nxt_v = nxt.gather(1, pick)[:, 0]
            else:
                nxt_v = nxt.max(1).values
            target = r + c.gamma * (1 - d) * nxt_v
        loss = F.smooth_l1_loss(q, target)
        value = self.check_finite(loss)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.module.parameters(), self.settings.grad_clip or 10.0)
        self.optimizer.step()
        self.schedule.after_step()
        return value

    @torch.no_grad()
    def _soft_update(self, tau: float) -> None:
        """Polyak averaging: target ← τ · online + (1 − τ) · target."""
        for t, o in zip(self.target.state_dict().values(), self.model.module.state_dict().values(), strict=True):
            if t.is_floating_point():
                t.mul_(1 - tau).add_(o, alpha=tau)

    def _target_out(self, s2: torch.Tensor) -> torch.Tensor:
        out = self.target(s2)
        return (out[self.model.prediction_index] if isinstance(out, tuple | list) else out).float()

    def extra_state(self) -> dict[str, Any]:
        return {"target": {k: v.detach().cpu() for k, v in self.target.state_dict().items()},
                "env_steps": self.env_steps, **super().extra_state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "target" in state:
            self.target.load_state_dict(state["target"])
        self.env_steps = int(state.get("env_steps", 0))
        super().load_extra_state(state)


register(RecipeSpec(
    name="dqn_control",
    label="Deep Q-learning (classic control)",
    help="The graph is the Q-network of a gymnasium control task (CartPole): replay, target network, Double DQN.",
    factory=ControlDQN,
    settings=ControlSettings,
    section="control",
    group="Classic control",
    metrics=(MetricSpec("return", "Return", "reward", True, help="Sum of rewards over an episode."),
             MetricSpec("length", "Episode length", "steps"),
             MetricSpec("epsilon", "Exploration (ε)", plot="none"),
             *evaluation_metrics("Mean return of the greedy policy over fresh evaluation episodes.")),
    **SPEC_FIELDS,
))
