"""The sequence paradigm. Sequence models: classification per token or a forecast, following the dataset.

Character models (a text dataset, one class per character) also write: their ``text_generation``
view continues a validation prompt at every temperature (:mod:`studio.train.text_sampling`), and
their validation perplexity is reported with the other metrics.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from studio.train import text_sampling
from studio.train.recipes import metrics_common as M
from studio.train.recipes.registry import DATASET_TRAINING_KEYS, MetricSpec, RecipeSpec, register
from studio.train.recipes.supervised import Supervised

# exp of the mean cross-entropy per token: "as unsure as a fair choice among this many characters";
# on the loss plot, where its log scale makes it run parallel to the loss
PERPLEXITY = MetricSpec("perplexity", "Perplexity", "tokens", False, plot="loss",
                        help="exp(cross-entropy per token) on the validation set: the model is as unsure as a "
                             "fair choice among this many tokens (1 = certain; a unigram model of a text is ~20).")
#: between two samples in the middle of an epoch (an epoch's end always writes one)
SAMPLE_EVERY_S = 30.0


class Sequence(Supervised):
    """The supervised step following the data, plus generated text for character models."""

    def __init__(self, ctx) -> None:
        super().__init__(ctx, task="auto")
        self._generated: dict[str, Any] | None = None
        self._generated_at = -float("inf")
        self._samples_written = 0
        self.writes = False  # set by setup: a character model on a text

    def setup(self) -> None:
        super().setup()
        self.writes = (self.task == "classification" and len(self.data.val_x) > 0
                       and text_sampling.is_character_data(self.data.name, self.data.classes))

    def views(self, quick: bool = False) -> dict[str, Any]:
        result = super().views(quick)
        attention = result.get("attention")
        if self.writes and attention and attention.get("tokens") is not None:  # the key axis reads as the text
            names = [{"\n": "⏎", " ": "␣"}.get(c, c) for c in self.data.classes]
            attention["tokens"] = [names[i] if 0 <= i < len(names) else "?" for i in attention["tokens"]]
        if self.writes and result.get("predictions") is not None:  # the input ids index the same characters
            result["predictions"]["text"] = True
        if self.writes:
            if not quick or time.monotonic() - self._generated_at >= SAMPLE_EVERY_S or self._generated is None:
                self._generated = self.write_text()
                self._generated_at = time.monotonic()
            result["text_generation"] = self._generated
        return result

    @torch.no_grad()
    def write_text(self, n_chars: int = text_sampling.SAMPLE_CHARS) -> dict[str, Any]:
        """Continue the first validation window at every temperature of the view's slider."""
        module = self.model.module
        module.eval()

        def scores(x: torch.Tensor) -> torch.Tensor:
            return text_sampling.last_scores(self.forward(self.model, x.to(self.device)))

        self._samples_written += 1
        prompt = self.data.val_x[0].tolist()
        return text_sampling.generation(scores, prompt, self.data.classes, n_chars,
                                        seed=self.settings.seed, written=self._samples_written)


SPEC = register(RecipeSpec(
    name="sequence",
    label="Sequence",
    help="Sequence models: classification per token or a forecast, following the dataset.",
    factory=Sequence,
    uses=DATASET_TRAINING_KEYS + ("loss.name", "loss.label_smoothing"),
    metrics=M.CLASSIFICATION + M.REGRESSION + (PERPLEXITY,),
    monitor="val_loss",
    roles=("prediction", "latent", "attention", "auxiliary"),
    views=("predictions", "forecast", "confusion", "attention", "latent", "text_generation"),
    export=True,
))
