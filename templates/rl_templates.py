"""The reinforcement-learning lab's templates: the seed's 5×5 grid, cliff walking, Sutton & Barto 3.5.

Built with the same helpers as every template (:mod:`templates.build_templates` merges
:data:`RL_BUILDERS` into its table); the lessons follow Sutton & Barto, *Reinforcement Learning:
An Introduction* (2nd ed.), whose results the tests in ``tests/train/test_rl_lab.py`` reproduce.
"""

from __future__ import annotations

from collections.abc import Callable

from studio.core.model import Project
from studio.core.registry import Registry

# build_templates imports this module to fill its table, so its helpers are imported where used.

GRID_5X5 = ["S....", ".#.#.", "...X.", ".#...", "....G"]
CLIFF = ["." * 12, "." * 12, "." * 12, "S" + "C" * 10 + "G"]


def _q_network(p: Project, reg: Registry, cells: int) -> None:
    """The DQN stage's network: one-hot cell in, four action values out."""
    from templates.build_templates import GraphBuilder, L

    g = GraphBuilder(p, reg, "q_network")
    g.sequential([cells], [L("nn.linear", "hidden", out_features=64), L("nn.relu", "act"),
                           L("nn.linear", "q_values", out_features=4)], output="action_values")
    g.layout()


GRID_5X5_EXPLANATION = """
What it is: tabular Q-learning on a 5×5 grid with the classic settings: learning rate α = 0.1, discount
γ = 0.9 and a constant exploration rate ε = 0.1. Reaching G pays +1, falling into the pit X pays −1 and
ends the episode; every other move pays nothing.

Why it is wired this way: with no step penalty only the discount makes short paths better: a reward t
moves away is worth 0.9^t now, so the values fall by 10 % per cell away from the goal. A constant small ε
keeps exploring forever, which is why some rarely tried moves stay underestimated.

What to watch: the numbers in the cells (V, the best action value) grow outwards from the goal; the
arrows point along the shortest safe path; Optimal-action share compares every cell's choice with
value iteration of the same grid.

Try: set Discount (γ) to 0.5 and train again: far cells now barely feel the goal. Then set Slip to 0.2
and watch the arrows next to the pit turn away from it.
"""


def gridworld_5x5(reg: Registry) -> Project:
    from templates.build_templates import new

    training = {"recipe": "q_learning_tabular", "epochs": 5, "graph": "q_network", "seed": 0,
                "rl": {"gamma": 0.9, "lr": 0.1, "epsilon_start": 0.1, "epsilon_end": 0.1, "episodes": 1000,
                       "random_start": True,
                       "grid": {"layout": GRID_5X5, "goal_reward": 1.0, "pit_reward": -1.0, "step_reward": 0.0}}}
    stages = {"sarsa": {"label": "SARSA", "about": "The same grid and settings, on-policy SARSA.",
                        "training": {"recipe": "sarsa"}},
              "value_iteration": {"label": "Value iteration", "about": "The exact answer, sweep by sweep.",
                                  "training": {"recipe": "value_iteration", "rl": {"episodes": 60}}},
              "dqn": {"label": "Deep Q-learning (network)",
                      "about": "The q_network graph replaces the table.",
                      "training": {"recipe": "dqn", "rl": {"episodes": 400, "epsilon_start": 1.0}}}}
    p = new("gridworld_5x5", "Q-learning on a 5×5 grid",
            "Tabular Q-learning with α 0.1, γ 0.9, ε 0.1: values spread out from the goal, cell by cell.",
            7, GRID_5X5_EXPLANATION, training, stages=stages,
            targets={"val_success": 1.0, "val_optimal_action_share": 0.85},
            try_steps=[{"setting": "rl.gamma"}, {"setting": "rl.grid.slip"}])
    _q_network(p, reg, 25)
    return p


CLIFF_EXPLANATION = """
What it is: Cliff Walking (Sutton & Barto, Example 6.6). Start bottom left, goal bottom right, and the
cells between them are a cliff: stepping in costs −100 and sends the agent back to the start. Every move
costs −1, γ = 1, α = 0.5, ε = 0.1.

Why it is wired this way: Q-learning learns the values of the greedy policy (it bootstraps on the best
next action) while it behaves ε-greedily, so it learns the path along the cliff edge, the shortest
one (greedy return −13). SARSA learns the values of the ε-greedy policy it actually follows, so it
prefers the safer path one or two rows up.

What to watch: train the default stage, then the SARSA stage; both runs stay overlaid on the Curves
tab. SARSA's episode return is higher while exploring (it falls off the cliff less often) even though
Q-learning's greedy path is shorter: compare Greedy return with the return curve.

Try: set ε at start and ε at end to 0 after a while of training: Q-learning then walks the edge
perfectly and beats SARSA.
"""


def gridworld_cliff(reg: Registry) -> Project:
    from templates.build_templates import new

    training = {"recipe": "q_learning_tabular", "epochs": 5, "graph": "q_network", "seed": 0,
                "rl": {"gamma": 1.0, "lr": 0.5, "epsilon_start": 0.1, "epsilon_end": 0.1, "episodes": 500,
                       "random_start": False,
                       "grid": {"layout": CLIFF, "goal_reward": 0.0, "cliff_reward": -99.0, "step_reward": -1.0,
                                "max_steps": 10_000}}}
    stages = {"q_learning": {"label": "Q-learning", "about": "Off-policy: learns the cliff-edge path.",
                             "training": {"recipe": "q_learning_tabular"}},
              "sarsa": {"label": "SARSA", "about": "On-policy: learns the safer path away from the edge.",
                        "training": {"recipe": "sarsa"}},
              "expected_sarsa": {"label": "Expected SARSA", "about": "SARSA on the expected next value.",
                                 "training": {"recipe": "expected_sarsa"}}}
    p = new("gridworld_cliff", "Cliff walking: Q-learning vs SARSA",
            "Sutton & Barto's cliff: Q-learning takes the edge, SARSA the safe path and more reward online.",
            8, CLIFF_EXPLANATION, training, stages=stages, default_stage="q_learning",
            targets={"val_greedy_return": -13.0},
            try_steps=[{"stage": "sarsa"}, {"setting": "rl.epsilon_start"}, {"setting": "rl.epsilon_end"}])
    _q_network(p, reg, 48)
    return p


BOOK_EXPLANATION = """
What it is: the gridworld of Sutton & Barto, Example 3.5. Any move from A jumps to A′ and pays +10,
any move from B jumps to B′ and pays +5, bumping into the edge pays −1 and stays put, everything else
pays 0. The task never ends (continuing) and γ = 0.9.

Why it is wired this way: value iteration knows the grid's rules, so it needs no episodes: each sweep
updates every cell from its neighbours, V(s) ← max over moves of reward + γ V(next). After about 60
sweeps the numbers are the book's optimal values v* (Figure 3.5): 24.4 in A, 22.0 around it.

What to watch: the numbers in the cells change sweep by sweep (slow the run down to follow them); the
arrows show every tied best move. The random-policy stage evaluates the equiprobable random policy
instead (the book's Figure 3.2: 8.8 in A, negative values along the bottom edge). The policy-iteration
stage evaluates a policy, makes it greedy in those values and evaluates again (Policy improvements
counts the rounds) until the policy stops changing: the same v*, reached another way.

Try: train the Random-policy evaluation stage and compare its numbers with v*; write your own policy in
Policy arrows (one word per row, ^ > v <), set Policy evaluated to arrows and see what it is worth; then
set Discount (γ) to 0.5: A's jump is now worth less than staying close to B.
"""


def gridworld_sutton_barto(reg: Registry) -> Project:
    from templates.build_templates import new

    training = {"recipe": "value_iteration", "epochs": 5, "graph": "q_network", "seed": 0,
                "rl": {"gamma": 0.9, "episodes": 100, "random_start": False,
                       "grid": {"layout": ["S...."] + ["....."] * 4, "step_reward": 0.0, "bump_reward": -1.0,
                                "continuing": True, "max_steps": 100,
                                "teleports": [[0, 1, 4, 1, 10.0], [0, 3, 2, 3, 5.0]]}}}
    stages = {"value_iteration": {"label": "Value iteration (v*)", "about": "Optimal values, sweep by sweep.",
                                  "training": {"recipe": "value_iteration"}},
              "random_policy": {"label": "Random-policy evaluation", "about": "Values of moving at random.",
                                "training": {"recipe": "policy_evaluation", "rl": {"policy": "random"}}},
              "policy_iteration": {"label": "Policy iteration",
                                   "about": "Evaluate a policy, make it greedy in its values, repeat: v* again.",
                                   "training": {"recipe": "policy_evaluation",
                                                "rl": {"policy": "greedy", "episodes": 1000}}}}
    p = new("gridworld_sutton_barto", "Sutton & Barto 3.5: value iteration",
            "The textbook's A → A′ gridworld solved by value iteration: the book's v* table, sweep by sweep.",
            9, BOOK_EXPLANATION, training, stages=stages, default_stage="value_iteration",
            targets={"val_optimal_action_share": 1.0},
            try_steps=[{"stage": "random_policy"}, {"setting": "rl.gamma"}])
    _q_network(p, reg, 25)
    return p


CARTPOLE_EXPLANATION = """
What it is: deep Q-learning on CartPole-v1 from gymnasium: push a cart left or right so the pole on it
stays up; every step it stays up pays +1, and an episode ends after 500 steps at most. The q_network graph
takes the four observations (cart position and speed, pole angle and angular speed) and returns one value
per action.

Why it is wired this way: a replay buffer breaks the correlation between successive steps, a slowly
following target network (soft updates, τ = 0.005) keeps the targets still while the network learns, and
Double DQN picks the next action with the online network but values it with the target network, which
stops the values from running away.

What to watch: the Environment page replays the last episode; Greedy return is the mean return of the
greedy policy over fresh episodes after each epoch (500 is perfect). DQN on CartPole is famously
unsteady: the best epoch is kept as best.pt.

Try: set Double DQN off and train again, and compare the Greedy return curves of the two runs.
"""


def cartpole_dqn(reg: Registry) -> Project:
    from templates.build_templates import GraphBuilder, L, new

    training = {"recipe": "dqn_control", "epochs": 12, "graph": "q_network", "seed": 0, "grad_clip": 100.0,
                "optimizer": {"name": "adam", "lr": 1e-4},
                "control": {"env": "CartPole-v1", "episodes": 600, "batch_size": 128, "epsilon_start": 0.9,
                            "epsilon_end": 0.05, "epsilon_steps": 5000, "replay_size": 10_000, "tau": 0.005,
                            "eval_episodes": 10}}
    p = new("cartpole_dqn", "CartPole by deep Q-learning",
            "Balance a pole on a cart: your network is the Q-function, trained from replay with a target network.",
            10, CARTPOLE_EXPLANATION, training, targets={"val_greedy_return": 475.0},
            try_steps=[{"setting": "control.double"}])
    g = GraphBuilder(p, reg, "q_network")
    g.sequential([4], [L("nn.linear", "hidden1", out_features=128), L("nn.relu", "act1"),
                       L("nn.linear", "hidden2", out_features=128), L("nn.relu", "act2"),
                       L("nn.linear", "q_values", out_features=2)], output="action_values")
    g.layout()
    return p


REINFORCE_EXPLANATION = """
What it is: policy gradient on CartPole-v1 (gymnasium): push the cart left or right so the pole stays up;
+1 per step, at most 500 steps. The policy graph takes the four observations and returns one score (logit)
per action; the agent samples its action from their softmax, so it explores by itself, without ε.

Why it is wired this way: REINFORCE (Williams, 1992) makes the actions of an episode more likely in
proportion to how much return followed them: Σ ∇ log π(a|s) · (G − b). The baseline b, here a small
learned value network V(s), changes nothing on average but takes out most of the noise: an action is
pushed up only when it did better than usual from that state. Four episodes per update and standardised
advantages keep the steps even; tanh hidden units keep the logits smooth.

What to watch: the Environment page replays the last training episode; Episode return (sampled actions)
climbs to 500; Greedy return plays the most likely action on fresh episodes after each epoch.

Try: set Baseline to none (plain REINFORCE) and train again, then compare the two runs' Episode return
curves on the Curves tab. Standardised advantages make CartPole forgiving: in the benchmark all three
baselines reach a greedy return of 500 (docs/benchmarks.md); the baseline matters more on longer tasks.
"""


def cartpole_reinforce(reg: Registry) -> Project:
    from templates.build_templates import GraphBuilder, L, new

    training = {"recipe": "reinforce", "epochs": 10, "graph": "policy", "seed": 0,
                "optimizer": {"name": "adam", "lr": 0.01},
                "pg": {"env": "CartPole-v1", "episodes": 1000, "gamma": 0.99, "batch_episodes": 4,
                       "baseline": "value", "eval_episodes": 10}}
    p = new("cartpole_reinforce", "CartPole by policy gradient (REINFORCE)",
            "Balance a pole on a cart: your network is the policy, made to repeat what earned more than expected.",
            11, REINFORCE_EXPLANATION, training, targets={"val_greedy_return": 475.0},
            try_steps=[{"setting": "pg.baseline"}])
    g = GraphBuilder(p, reg, "policy")
    g.sequential([4], [L("nn.linear", "hidden", out_features=64), L("nn.tanh", "act"),
                       L("nn.linear", "logits", out_features=2)], output="action_logits")
    g.layout()
    return p


RL_BUILDERS: dict[str, Callable[[Registry], Project]] = {
    "cartpole_dqn": cartpole_dqn,
    "cartpole_reinforce": cartpole_reinforce,
    "gridworld_5x5": gridworld_5x5,
    "gridworld_cliff": gridworld_cliff,
    "gridworld_sutton_barto": gridworld_sutton_barto,
}
