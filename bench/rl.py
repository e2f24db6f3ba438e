"""RL lab benchmark: the textbook gridworld results, CartPole by deep Q-learning and by REINFORCE.

CartPole: the ``cartpole_dqn`` and ``cartpole_reinforce`` templates train as shipped; the best epoch's
checkpoint (by greedy return over 10 episodes) is then played greedily on 100 fresh episodes.
Run: ``python -m bench.rl`` (everything) or ``python -m bench.rl reinforce`` (the policy-gradient section).
"""

from __future__ import annotations

import resource
import tempfile
import time

import numpy as np
import torch

from bench.report import write_section
from bench.templates import apply_stage, load
from studio.catalog import default_registry
from studio.train.engine import load_trained, run


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def greedy_returns(model, env_name: str, episodes: int = 100) -> list[float]:
    import gymnasium as gym

    env = gym.make(env_name)
    out = []
    with torch.no_grad():
        for k in range(episodes):
            obs, _ = env.reset(seed=1_000_000 + k)
            total, done = 0.0, False
            while not done:
                q = model(torch.as_tensor(obs, dtype=torch.float32)[None])
                obs, r, terminated, truncated, _ = env.step(int(q[0].argmax()))
                total += float(r)
                done = terminated or truncated
            out.append(total)
    return out


def cartpole(registry) -> str:
    project = load("cartpole_dqn", registry)
    with tempfile.TemporaryDirectory() as folder:
        start, wall = _cpu(), time.perf_counter()
        final = None
        for update in run(project.snapshot(), registry, checkpoint_dir=folder):
            if update.final:
                final = update
        cpu, wall = _cpu() - start, time.perf_counter() - wall
        assert final is not None and final.kind == "done", final.message if final else "no result"
        best_epoch = int(np.argmax([row["val_greedy_return"] for row in final.history])) + 1
        model = load_trained(project, registry, f"{folder}/best.pt")["q_network"].module.eval()
        scores = greedy_returns(model, "CartPole-v1")
    curve = ", ".join(f"{row['val_greedy_return']:.0f}" for row in final.history)
    mean = float(np.mean(scores))
    return (f"CartPole-v1, `cartpole_dqn` template as shipped (600 episodes, Double DQN, soft target τ 0.005): "
            f"training took **{cpu / 60:.1f} CPU minutes** ({wall / 60:.1f} min wall on a shared machine). "
            f"Greedy return per epoch (10 episodes each): {curve}. The best epoch ({best_epoch}) played greedily "
            f"on 100 fresh episodes: mean **{mean:.1f}**, min {min(scores):.0f} (bar: mean ≥ 475 — "
            f"{'met' if mean >= 475 else 'not met'}).")


def _train_best(project, registry, graph: str):
    """Train ``project`` with checkpoints; returns (final update, best model, CPU s, wall s)."""
    with tempfile.TemporaryDirectory() as folder:
        start, wall = _cpu(), time.perf_counter()
        final = None
        for update in run(project.snapshot(), registry, checkpoint_dir=folder, views=False):
            if update.final:
                final = update
        cpu, wall = _cpu() - start, time.perf_counter() - wall
        assert final is not None and final.kind == "done", final.message if final else "no result"
        model = load_trained(project, registry, f"{folder}/best.pt")[graph].module.eval()
    return final, model, cpu, wall


def reinforce(registry) -> str:
    """The cartpole_reinforce template as shipped, and the same run with the other baselines."""
    rows = ["| baseline | CPU min (wall) | greedy return per epoch (10 episodes) | best epoch: 100 fresh greedy "
            "episodes, mean (min) | bar mean ≥ 475 |", "|---|---|---|---|---|"]
    for baseline in ("value", "mean", "none"):
        project = load("cartpole_reinforce", registry)
        project.training["pg"]["baseline"] = baseline
        final, model, cpu, wall = _train_best(project, registry, "policy")
        scores = greedy_returns(model, "CartPole-v1")
        curve = ", ".join(f"{row['val_greedy_return']:.0f}" for row in final.history)
        mean = float(np.mean(scores))
        shipped = " (template)" if baseline == "value" else ""
        rows.append(f"| {baseline}{shipped} | {cpu / 60:.1f} ({wall / 60:.1f}) | {curve} | **{mean:.1f}** "
                    f"({min(scores):.0f}) | {'met' if mean >= 475 else 'not met'} |")
    return ("CartPole-v1 by REINFORCE, `cartpole_reinforce` template (1000 episodes in 10 epochs, 4 episodes per "
            "update, Adam lr 0.01, a 4-64-2 tanh policy; one thread, a machine shared with other work):\n\n"
            + "\n".join(rows))


def textbook(registry) -> str:
    rows = ["| template / stage | result |", "|---|---|"]
    cliff = load("gridworld_cliff", registry)
    for stage in ("q_learning", "sarsa", "expected_sarsa"):
        final = None
        for update in run(apply_stage(cliff, stage).snapshot(), registry):
            final = update if update.final else final
        online = float(np.mean(np.asarray(final.views["returns"]["returns"])[100:]))
        rows.append(f"| cliff walking / {stage} | greedy return {final.history[-1]['val_greedy_return']:.0f}, "
                    f"mean online return over episodes 100–500 {online:.1f} |")
    book = load("gridworld_sutton_barto", registry)
    for stage in ("value_iteration", "random_policy"):
        final = None
        for update in run(apply_stage(book, stage).snapshot(), registry):
            final = update if update.final else final
        v = np.asarray(final.views["gridworld"]["values"])
        rows.append(f"| Sutton & Barto 3.5 / {stage} | V(A) = {v[0, 1]:.1f}, V(B) = {v[0, 3]:.1f}, "
                    f"corner (5,5) = {v[4, 4]:.1f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    import sys

    parts = (sys.argv[1:] if argv is None else argv) or ["lab", "reinforce"]
    torch.set_num_threads(1)
    registry = default_registry()
    if "lab" in parts:
        text = textbook(registry) + "\n\n" + cartpole(registry)
        print(text)
        write_section("Reinforcement learning lab", text)
    if "reinforce" in parts:
        text = reinforce(registry)
        print(text)
        write_section("Policy gradient (REINFORCE)", text)


if __name__ == "__main__":
    main()
