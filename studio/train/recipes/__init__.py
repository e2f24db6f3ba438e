"""Recipes: how one step of each paradigm works."""

from __future__ import annotations

from studio.train.recipes.base import Context, Recipe


def make_recipe(ctx: Context) -> Recipe:
    name = ctx.settings.recipe
    if name in ("classification", "regression", "sequence", "reconstruction"):
        from studio.train.recipes.supervised import Supervised

        return Supervised(ctx)
    if name == "adversarial":
        from studio.train.recipes.adversarial import Adversarial

        return Adversarial(ctx)
    if name == "q_learning_tabular":
        from studio.train.recipes.rl import TabularQ

        return TabularQ(ctx)
    from studio.train.recipes.rl import DQN

    return DQN(ctx)
