"""Recipes: how one step of each paradigm works. Paradigms are declared in the registry
(:mod:`studio.train.recipes.registry`); this module builds the one a run asks for."""

from __future__ import annotations

from studio.train.recipes.base import Context, Recipe
from studio.train.recipes.registry import recipe_spec


def make_recipe(ctx: Context) -> Recipe:
    """The step object of ``ctx.settings.recipe``, with its declared monitor metric and unit."""
    spec = recipe_spec(ctx.settings.recipe)
    recipe = spec.factory(ctx)
    recipe.spec = spec
    recipe.monitor = spec.monitor
    recipe.unit = spec.unit
    return recipe
