"""WGAN-GP: the gradient penalty against a hand computation, and the critic's loss signs."""

import copy

import pytest
import torch
from torch import nn

from studio.catalog import default_registry
from studio.train.nnloop.tasks import GanTask
from studio.train.settings import TrainingSettings


def _task(D: nn.Module, shape: tuple[int, ...], gan: dict | None = None) -> GanTask:
    default_registry()  # registers the adversarial recipe's ``gan`` section
    cfg = TrainingSettings.from_dict({"recipe": "adversarial", "batch_size": 4,
                                      "gan": {"loss": "wgan_gp", **(gan or {})}}).to_dict()
    G = nn.Linear(3, int(torch.tensor(shape).prod()))
    return GanTask(cfg, G, D, lambda z: G(z).reshape(len(z), *shape), D, torch.randn(16, *shape),
                   torch.randn(8, *shape), latent_shape=(3,))


def test_gradient_penalty_of_a_linear_critic_is_the_weight_norm_minus_one_squared():
    torch.manual_seed(0)
    D = nn.Linear(2, 1)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[3.0, 4.0]]))  # |grad| = 5 at every point: penalty (5 - 1)^2 = 16
    gp = _task(D, (2,))._gradient_penalty(torch.randn(8, 2), torch.randn(8, 2))
    assert gp.item() == pytest.approx(16.0)
    gp.backward()  # the penalty trains the critic: d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|
    assert D.weight.grad[0].tolist() == pytest.approx([2 * 4 * 3 / 5, 2 * 4 * 4 / 5])


def test_gradient_penalty_takes_each_samples_norm_over_all_its_values():
    # D(x) = sum(x^2) / 2 per sample: its gradient at x is x, so the penalty is mean_i (|x_i| - 1)^2
    # over each sample's whole image; real == fake pins the interpolate to that point
    class Half(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.unused = nn.Parameter(torch.zeros(1))  # the critic's optimizer needs a weight

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 0.5 * x.pow(2).reshape(len(x), -1).sum(1, keepdim=True)

    x = torch.tensor([[[[1.0, 2.0], [2.0, 0.0]]], [[[0.0, 0.0], [0.0, 0.5]]]])  # norms 3 and 0.5
    gp = _task(Half(), (1, 2, 2))._gradient_penalty(x, x.clone())
    assert gp.item() == pytest.approx(((3 - 1) ** 2 + (0.5 - 1) ** 2) / 2)


def test_a_wgan_gp_step_is_the_textbook_update():
    """d_steps critic updates on D(fake) - D(real) + gp * penalty, then one generator update on -D(G(z)),
    with Adam as set; label smoothing and R1 (BCE settings) must not leak into the Wasserstein losses."""
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    D = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    x = torch.randn(96, 2)
    cfg = TrainingSettings.from_dict({
        "recipe": "adversarial", "batch_size": 8, "loss": {"label_smoothing": 0.2},
        "optimizer": {"name": "adam", "lr": 1e-3, "betas": [0.5, 0.9]},
        "gan": {"loss": "wgan_gp", "d_steps": 3, "gp": 5.0, "r1": 1.0}}).to_dict()
    task = GanTask(cfg, G, D, G, D, x, x[:8], latent_shape=(4,))
    drawn: list[torch.Tensor] = []  # every real batch, noise batch and interpolation weight, in order

    def record(fn):
        def wrapped(*args, **kwargs):
            drawn.append(fn(*args, **kwargs))
            return drawn[-1]
        return wrapped

    task._real, task.noise = record(task._real), record(task.noise)
    rand = torch.rand
    torch.rand = record(rand)
    try:
        for i in range(3):
            task.step(0, i)
    finally:
        torch.rand = rand

    stream = iter(drawn)
    opt_g = torch.optim.Adam(G2.parameters(), 1e-3, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(D2.parameters(), 1e-3, betas=(0.5, 0.9))
    for _ in range(3):
        for _ in range(3):
            real = next(stream)
            with torch.no_grad():
                fake = G2(next(stream))
            a = next(stream)
            mix = (a * real + (1 - a) * fake).requires_grad_(True)
            grad, = torch.autograd.grad(D2(mix).sum(), mix, create_graph=True)
            loss = D2(fake).mean() - D2(real).mean() + 5.0 * ((grad.norm(dim=1) - 1) ** 2).mean()
            opt_d.zero_grad()
            loss.backward()
            opt_d.step()
        loss = -D2(G2(next(stream))).mean()
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
    assert next(stream, None) is None
    for ours, textbook in ((D, D2), (G, G2)):
        for p, q in zip(ours.parameters(), textbook.parameters(), strict=True):
            torch.testing.assert_close(p, q)
