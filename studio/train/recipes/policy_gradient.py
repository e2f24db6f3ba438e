"""Policy gradient on gymnasium's classic control tasks: REINFORCE with a baseline (Williams, 1992).

The user's graph is the policy: observation in, one logit per action out; actions are sampled from
the softmax. After every ``batch_episodes`` episodes the policy moves along
Σ_t ∇ log π(a_t | s_t) · (G_t − b(s_t)), G_t the discounted return-to-go. The baseline b changes
nothing in expectation but cuts the variance: ``value`` learns V(s) with a small network the recipe
owns (the user's graph stays the policy alone), ``mean`` uses the batch's mean return-to-go at the
same time step, ``none`` is plain REINFORCE. Advantages are standardised per batch.
One engine step is one episode; after each epoch the greedy policy (argmax of the logits) plays
``eval_episodes`` fresh episodes, whose mean return is the quality bar (CartPole-v1: 475 of 500).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.train.recipes.gym_control import SPEC_FIELDS, GymControl, GymTaskSettings, evaluation_metrics
from studio.train.recipes.registry import MetricSpec, RecipeSpec, register
from studio.train.settings import Float, Int, S


class PolicyGradientSettings(GymTaskSettings):
    """REINFORCE's own settings (``training.pg``)."""

    env: Literal["CartPole-v1", "Acrobot-v1"] = S("CartPole-v1", title="Environment",
                                                  help="A gymnasium classic-control task with discrete actions.")
    episodes: Int = S(1000, title="Episodes", ge=1, le=1_000_000, help="Episodes in total (spread over the epochs).")
    batch_episodes: Int = S(4, title="Episodes per update", ge=1, le=1000,
                            help="Episodes played with the same policy before one gradient step.")
    baseline: Literal["value", "mean", "none"] = S(
        "value", title="Baseline",
        help="Subtracted from the return to cut the gradient's variance: value = a learned V(s) (a small network "
             "of the recipe's own), mean = the batch's mean return at the same time step, none = plain REINFORCE.")
    value_lr: Float = S(3e-3, title="Baseline learning rate", ge=1e-6, le=1.0, advanced=True,
                        help="Adam learning rate of the value baseline.")
    entropy: Float = S(0.0, title="Entropy bonus", ge=0.0, le=1.0, advanced=True,
                       help="Rewards spread-out action probabilities (keeps exploring); 0 = off.")


def returns_to_go(rewards: list[float], gamma: float) -> np.ndarray:
    """G_t = r_t + γ r_{t+1} + γ² r_{t+2} + … for every step of one episode."""
    out = np.zeros(len(rewards))
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def mean_baseline(returns: list[np.ndarray]) -> list[np.ndarray]:
    """The batch's mean return-to-go at each time step (episodes that ended earlier do not count there)."""
    longest = max(len(g) for g in returns)
    sums, counts = np.zeros(longest), np.zeros(longest)
    for g in returns:
        sums[:len(g)] += g
        counts[:len(g)] += 1
    mean = sums / np.maximum(counts, 1)
    return [mean[:len(g)] for g in returns]


class Reinforce(GymControl):
    section = "pg"
    network = "the policy"
    per_action = "logits"

    def setup(self) -> None:
        obs_dim = self.setup_task()
        self.value = nn.Sequential(nn.Linear(obs_dim, 64), nn.Tanh(), nn.Linear(64, 1)).to(self.device)
        self.value_opt = torch.optim.Adam(self.value.parameters(), lr=self.settings.pg.value_lr)
        self.batch: list[tuple[np.ndarray, np.ndarray, list[float]]] = []
        self.last_loss = 0.0

    logits = GymControl.outputs

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        c = self.settings.pg
        obs, _ = self.env.reset(seed=int(self.rng.integers(2**31)))
        states, actions, rewards, done = [obs], [], [], False
        while not done:
            probs = torch.softmax(self.logits(obs).double(), 0).cpu().numpy()
            a = int(self.rng.choice(self.n_actions, p=probs / probs.sum()))
            obs, r, terminated, truncated, _ = self.env.step(a)
            actions.append(a)
            rewards.append(float(r))
            states.append(obs)
            done = terminated or truncated
        self.episode += 1
        ret = float(sum(rewards))
        self.returns.append(ret)
        self.last_states = states
        self.batch.append((np.asarray(states[:-1], np.float32), np.asarray(actions, np.int64), rewards))
        if len(self.batch) >= c.batch_episodes:
            self.last_loss = self._learn() if c.learning else 0.0
            self.batch = []
        return {"loss": self.last_loss, "episode_return": ret, "length": float(len(rewards))}

    def _learn(self) -> float:
        """One REINFORCE step on the batch's episodes (and one regression step of the value baseline)."""
        c = self.settings.pg
        obs = torch.as_tensor(np.concatenate([b[0] for b in self.batch]), device=self.device)
        acts = torch.as_tensor(np.concatenate([b[1] for b in self.batch]), device=self.device)
        g_list = [returns_to_go(b[2], c.gamma) for b in self.batch]
        g = torch.as_tensor(np.concatenate(g_list), dtype=torch.float32, device=self.device)
        if c.baseline == "value":
            with torch.no_grad():
                base = self.value(obs)[:, 0]
        elif c.baseline == "mean":
            base = torch.as_tensor(np.concatenate(mean_baseline(g_list)), dtype=torch.float32, device=self.device)
        else:
            base = torch.zeros_like(g)
        adv = g - base
        if len(adv) > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        self.train_mode(self.model)
        logits = self.forward(self.model, obs).float()
        logp = F.log_softmax(logits, 1)
        chosen = logp.gather(1, acts[:, None])[:, 0]
        entropy = -(logp.exp() * logp).sum(1).mean()
        loss = -(chosen * adv).mean() - c.entropy * entropy
        value = self.check_finite(loss)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.settings.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.module.parameters(), self.settings.grad_clip)
        self.optimizer.step()
        self.schedule.after_step()
        if c.baseline == "value":
            v_loss = F.mse_loss(self.value(obs)[:, 0], g)
            self.value_opt.zero_grad(set_to_none=True)
            v_loss.backward()
            self.value_opt.step()
        return value

    def extra_state(self) -> dict[str, Any]:
        return {"value": {k: v.detach().cpu() for k, v in self.value.state_dict().items()},
                "value_opt": self.value_opt.state_dict(), **super().extra_state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "value" in state:
            self.value.load_state_dict(state["value"])
        if "value_opt" in state:
            self.value_opt.load_state_dict(state["value_opt"])
        super().load_extra_state(state)


register(RecipeSpec(
    name="reinforce",
    label="Policy gradient (REINFORCE)",
    help="The graph is the policy of a gymnasium control task (CartPole): REINFORCE with a learned value baseline.",
    factory=Reinforce,
    settings=PolicyGradientSettings,
    section="pg",
    group="Policy gradient",
    metrics=(MetricSpec("episode_return", "Episode return", "reward", True,
                        help="Sum of rewards over a training episode (actions sampled from the policy)."),
             MetricSpec("length", "Episode length", "steps"),
             *evaluation_metrics("Mean return of the greedy policy (most likely action) over fresh evaluation "
                                 "episodes.")),
    **SPEC_FIELDS,
))
