import numpy as np
import pytest

from studio.train.gridworld import GOAL, GridError, GridWorld

SMALL = ["S..",
         ".#.",
         "X.G"]


def test_hand_computed_shortest_distances():
    env = GridWorld(SMALL)
    d = env.distances().reshape(3, 3)
    # S(0,0): right,right,down,down = 4 moves; (1,0) -> (2,0) is a pit so it must go around
    assert d[0, 0] == 4 and d[0, 1] == 3 and d[0, 2] == 2 and d[1, 2] == 1 and d[2, 1] == 1
    assert d[1, 0] == 5  # up to S, then the long way
    assert d[1, 1] == -1 and d[2, 0] == -1 and d[2, 2] == 0
    assert env.optimal_actions(0) == [1]  # only "right" from the start
    assert sorted(env.optimal_actions(2)) == [2]


def test_walls_block_and_pits_end():
    env = GridWorld(SMALL, step_reward=-0.1, pit_reward=-1.0)
    env.reset(3)  # (1, 0)
    s, r, done = env.step(1)  # right into the wall: stays
    assert s == 3 and not done and r == pytest.approx(-0.1)
    s, r, done = env.step(2)  # down into the pit
    assert s == 6 and done and r == pytest.approx(-1.1)


def test_cliff_sends_back_to_start():
    env = GridWorld(["S.C", "..G"], cliff_reward=-5, step_reward=0.0)
    env.reset(1)
    s, r, done = env.step(1)
    assert s == env.start and r == -5 and not done


def test_slip_is_seeded():
    a, b = GridWorld(SMALL, slip=0.5, seed=3), GridWorld(SMALL, slip=0.5, seed=3)
    pa = [a.step(1)[0] for _ in range(10)]
    pb = [b.step(1)[0] for _ in range(10)]
    assert pa == pb


def test_policy_quality_against_hand_policy():
    env = GridWorld(SMALL)
    q = np.zeros((9, 4))
    for s in env.starts:
        q[s, env.optimal_actions(s)[0]] = 1.0
    assert env.policy_quality(q) == {"optimal_actions": 1.0, "optimal_paths": 1.0}
    q[0] = [0, 0, 1, 0]  # down from the start: (1, 0) sends it back up, a loop
    quality = env.policy_quality(q)
    assert quality["optimal_actions"] < 1.0 and quality["optimal_paths"] < 1.0
    path = env.greedy_path(q.argmax(1))
    assert path == [0, 3, 0] and env.cells.flat[path[-1]] != GOAL


def test_render_and_encode():
    env = GridWorld(SMALL)
    img = env.render(cell=8)
    assert img.shape == (24, 24, 3) and img.dtype == np.uint8
    assert env.encode([9]).shape == (9, 9)
    assert env.encode([3, 3, 3]).shape == (9, 3, 3, 3)
    with pytest.raises(GridError, match=r"\[9\]"):
        env.encode([5])


@pytest.mark.parametrize("layout, words", [(["S.", "..."], "row 2"), (["S?G"], "column 2"), (["S.."], "goal"),
                                           (["S#G"], "reached")])
def test_bad_layouts(layout, words):
    with pytest.raises(GridError, match=words):
        GridWorld(layout)
