"""A recipe that trains with an nnloop task (contrastive, diffusion, VAE, skip-gram): the task owns the
batches, the step and the validation, the code an exported ``train.py`` runs; the recipe checks the
graphs, hands the task bare module calls, and shows the views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.train.build import BuiltModel
from studio.train.recipes.base import Recipe


class LoopTaskRecipe(Recipe):
    """The engine steps ``loop_task`` itself (reading metrics in batches); these methods serve the rest."""

    loop_task: Any

    def adopt(self, task: Any) -> None:
        """Take the task's optimizer and schedule as the run's (checkpoints, the learning-rate plot)."""
        self.loop_task = task
        self.optimizer, self.schedule = task.optimizer, task.schedule
        self.optimizers, self.schedules = {"main": task.optimizer}, {"main": task.schedule}

    def bare_call(self, built: BuiltModel, pick: Callable[[Any], Any]) -> Callable[..., Any]:
        """``pick`` of ``built``'s returned values at the cost of a bare module call; a failing call runs
        again through :meth:`forward`, which names the node that failed."""
        module = built.module

        def call(*args: Any) -> Any:
            try:
                out = module(*args)
            except Exception:
                out = self.forward(built, *args, all_outputs=True)
            return pick(out)

        return call

    def steps_per_epoch(self) -> int:
        return self.loop_task.steps_per_epoch()

    def train_step(self, epoch: int, index: int) -> dict[str, float]:
        """One step and its metrics (the engine drives ``loop_task`` itself and reads metrics in batches)."""
        self.loop_task.step(epoch, index)
        return self.loop_task.flush()[-1]

    def evaluate(self) -> dict[str, float]:
        return self.loop_task.evaluate()
