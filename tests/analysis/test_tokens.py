"""Per-token attributions of sequence models (token ids -> Embedding -> ... -> class scores)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from studio.analysis.explain import ExplainError, attribute
from studio.analysis.tokens import NoTokenForward, find_embedding, token_label


class TinyLSTM(nn.Module):
    """Many-to-one: the class of a sequence from the LSTM's last state."""

    def __init__(self, vocab: int = 7, classes: int = 3) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.lstm = nn.LSTM(8, 12, batch_first=True)
        self.head = nn.Linear(12, classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embed(ids))
        return self.head(out[:, -1])


class FirstTokenOnly(nn.Module):
    """Scores read the first token alone: every later token must get exactly zero."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(5, 4)
        self.head = nn.Linear(4, 3)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        e = self.embed(ids)
        return self.head(torch.tanh(e[:, 0])) + 0 * e[:, 1:].sum((1, 2)).unsqueeze(-1)


def test_sequence_integrated_gradients_are_complete_within_captums_delta():
    torch.manual_seed(0)
    model = TinyLSTM().eval()
    ids = torch.randint(0, 7, (5, 9))
    result = attribute(model, ids, 2, "ig", steps=64)
    assert result.values.shape == (5, 9)
    assert float(result.delta.max()) < 1e-2
    with NoTokenForward(model, model.embed) as forward:  # f(tokens) - f(no tokens): what IG must add up to
        gap = forward(ids)[:, 2] - forward(torch.full_like(ids, -1))[:, 2]
    assert torch.allclose(result.values.sum(1), gap, atol=1e-2)


@pytest.mark.parametrize("method", ["saliency", "ig", "occlusion"])
def test_tokens_the_model_never_reads_get_no_attribution(method):
    torch.manual_seed(1)
    ids = torch.randint(0, 5, (4, 6))
    values = attribute(FirstTokenOnly().eval(), ids, None, method).values
    assert values.shape == (4, 6)
    assert values[:, 1:].abs().max() < 1e-6
    assert values[:, 0].abs().max() > 0


def test_the_baseline_is_a_zero_embedding_so_a_token_equal_to_id_zero_still_counts():
    model = FirstTokenOnly().eval()
    ids = torch.zeros(2, 6, dtype=torch.long)  # token 0 is a real token, not the baseline
    values = attribute(model, ids, 1, "ig").values
    assert values[:, 0].abs().min() > 0


def test_methods_that_need_real_valued_inputs_are_refused_for_tokens_with_the_alternatives():
    ids = torch.randint(0, 5, (2, 6))
    for method in ("gradcam", "lrp"):
        with pytest.raises(ExplainError, match="saliency, Integrated Gradients or occlusion"):
            attribute(FirstTokenOnly(), ids, None, method)
    no_embedding = nn.Sequential(nn.Flatten())
    with pytest.raises(ExplainError, match="no Embedding"):
        attribute(no_embedding, ids, 0, "ig")


def test_hooks_are_removed_after_an_attribution():
    model = FirstTokenOnly().eval()
    attribute(model, torch.randint(0, 5, (2, 6)), 0, "occlusion")
    emb = find_embedding(model)
    assert not emb._forward_hooks and not emb._forward_pre_hooks


def test_token_labels_show_characters_and_fall_back_to_ids():
    assert token_label(2, ["a", " ", "\n"]) == "⏎"
    assert token_label(1, ["a", " ", "\n"]) == "␣"
    assert token_label(7, ["a"]) == "7"
    assert token_label(3, None) == "3"


class SharpAttention(nn.Module):
    """Attention with a near-hard softmax: the path integral bends sharply, so few steps do not add up."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.embed = nn.Embedding(6, 8)
        self.query = nn.Parameter(torch.randn(8) * 40)
        self.head = nn.Linear(8, 3)
        with torch.no_grad():
            self.head.weight.mul_(10)  # large scores: the completeness gap is large in absolute terms too

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        e = self.embed(ids)
        weights = torch.softmax(e @ self.query, dim=1)
        return self.head((weights.unsqueeze(-1) * e).sum(1))


def test_ig_takes_more_steps_until_completeness_holds():
    torch.manual_seed(4)
    ids = torch.randint(0, 6, (6, 7))
    model = SharpAttention().eval()
    with NoTokenForward(model, model.embed) as forward:
        from captum.attr import LayerIntegratedGradients

        _v, coarse = LayerIntegratedGradients(forward, model.embed).attribute(
            ids, baselines=torch.full_like(ids, -1), target=0, n_steps=4, method="gausslegendre",
            return_convergence_delta=True)
    assert float(coarse.abs().max()) > 1e-2  # 4 steps are not enough for this model
    result = attribute(model, ids, 0, "ig", steps=4)
    assert float(result.delta.max()) < 1e-2 and result.steps > 4
