"""Tabular RL against the textbook: cliff walking (Example 6.6), the gridworld of Example 3.5, slip."""

from __future__ import annotations

import numpy as np
import pytest

from studio.train.gridworld import GridWorld
from studio.train.tabular import (
    TDAgent,
    evaluate_policy,
    greedy_policy,
    greedy_return,
    optimality,
    random_policy,
    solve,
)

CLIFF = ["." * 12, "." * 12, "." * 12, "S" + "C" * 10 + "G"]


def cliff_world(seed: int) -> GridWorld:
    """Sutton & Barto Example 6.6: −1 a move, −100 and back to start for the cliff, the goal ends it."""
    return GridWorld(CLIFF, goal_reward=0.0, cliff_reward=-99.0, step_reward=-1.0, seed=seed, max_steps=10_000)


def train(algorithm: str, seed: int, episodes: int = 500) -> tuple[TDAgent, list[float], GridWorld]:
    env = cliff_world(seed)
    agent = TDAgent(env.n_states, algorithm, alpha=0.5, gamma=1.0, epsilon=0.1, seed=seed)
    returns = [agent.episode(env).ret for _ in range(episodes)]
    return agent, returns, env


@pytest.mark.parametrize("seed", range(5))
def test_cliff_walking_q_learning_takes_the_edge_and_sarsa_the_safe_path(seed):
    q_agent, q_returns, env = train("q_learning", seed)
    s_agent, s_returns, _ = train("sarsa", seed)
    assert greedy_return(env, q_agent.q) == -13
    assert greedy_return(env, s_agent.q) < -13  # a longer, safer path than the cliff edge
    assert np.mean(s_returns[100:500]) > np.mean(q_returns[100:500])  # yet SARSA earns more online


def test_expected_sarsa_learns_the_cliff_too():
    agent, returns, env = train("expected_sarsa", 0)
    assert greedy_return(env, agent.q) <= -13 and np.mean(returns[-100:]) > -40


BOOK_V_STAR = np.array([[22.0, 24.4, 22.0, 19.4, 17.5],
                        [19.8, 22.0, 19.8, 17.8, 16.0],
                        [17.8, 19.8, 17.8, 16.0, 14.4],
                        [16.0, 17.8, 16.0, 14.4, 13.0],
                        [14.4, 16.0, 14.4, 13.0, 11.7]])
BOOK_V_RANDOM = np.array([[3.3, 8.8, 4.4, 5.3, 1.5],
                          [1.5, 3.0, 2.3, 1.9, 0.5],
                          [0.1, 0.7, 0.7, 0.4, -0.4],
                          [-1.0, -0.4, -0.4, -0.6, -1.2],
                          [-1.9, -1.3, -1.2, -1.4, -2.0]])


def example_3_5() -> GridWorld:
    """A → A′ +10, B → B′ +5, −1 for bumping off the grid, otherwise 0; continuing, γ = 0.9."""
    return GridWorld(["." * 5] * 5, step_reward=0.0, bump_reward=-1.0, continuing=True,
                     teleports=[(0, 1, 4, 1, 10.0), (0, 3, 2, 3, 5.0)])


def test_value_iteration_reproduces_the_books_v_star():
    v, _ = solve(example_3_5(), 0.9)
    assert np.abs(v.reshape(5, 5) - BOOK_V_STAR).max() < 0.1


def test_random_policy_evaluation_reproduces_figure_3_2():
    env = example_3_5()
    v = evaluate_policy(env, random_policy(env), 0.9)
    assert np.abs(v.reshape(5, 5) - BOOK_V_RANDOM).max() < 0.1


def test_on_a_slippery_grid_the_value_iteration_policy_is_fully_optimal():
    env = GridWorld(["S...", ".#.X", "...G"], step_reward=-0.04, slip=0.3)
    _, q_star = solve(env, 0.95)
    assert optimality(env, q_star, 0.95)["optimal_action_share"] == 1.0
    v_pi = evaluate_policy(env, greedy_policy(q_star), 0.95)
    worse = q_star.copy()
    worse[env.start] = -worse[env.start]  # flip the start state's choice
    assert optimality(env, worse, 0.95)["optimal_action_share"] < 1.0
    assert v_pi[env.start] == pytest.approx(q_star[env.start].max())


def test_sliders_change_the_running_agent_between_moves():
    env = cliff_world(0)
    agent = TDAgent(env.n_states, "q_learning", alpha=0.5, epsilon=0.1)
    agent.episode(env)
    agent.alpha, agent.epsilon, agent.learning = 0.0, 0.0, False
    before = agent.q.copy()
    agent.episode(env, max_steps=50)
    assert np.array_equal(agent.q, before)


def test_teleports_and_cell_rewards_are_checked_against_the_grid():
    with pytest.raises(ValueError, match="off the 2×2 grid"):
        GridWorld(["S.", ".G"], teleports=[(0, 0, 5, 5, 1.0)])
    with pytest.raises(ValueError, match="is a wall"):
        GridWorld(["S#", ".G"], cell_rewards=[(0, 1, 1.0)])
    with pytest.raises(ValueError, match="continuing"):
        GridWorld(["S.", ".."])
