"""The inputs a graph really sees in its paradigm, for looking at a trained model's activations.

Kept apart from :mod:`studio.train.inspect_stats` because it builds a recipe through the engine's
helpers, while the engine itself uses the statistics module.
"""

from __future__ import annotations

from typing import Any

import torch


def recipe_inputs(project: Any, registry: Any, settings: Any, graph_name: str, count: int = 64
                  ) -> tuple[torch.Tensor, ...]:
    """Inputs that ``graph_name`` really sees in its paradigm, for looking at a trained model's
    activations: the supervised recipes' validation samples (as normalised for training), a DQN's
    encoded gridworld states, a GAN generator's fixed noise. Builds the recipe (its data) once;
    raises ValueError naming the graph when the paradigm feeds it nothing of its own."""
    from studio.train.engine import pick_device
    from studio.train.recipes import make_recipe
    from studio.train.recipes.base import Context
    from studio.train.settings import TrainingSettings

    s = settings if isinstance(settings, TrainingSettings) else TrainingSettings.from_dict(settings or {})
    recipe = make_recipe(Context(project, registry, s, pick_device("cpu"), amp=False))
    recipe.setup()
    if graph_name not in recipe.built:
        raise ValueError(f"the '{s.recipe}' paradigm does not run graph '{graph_name}'")
    if len(recipe.built) == 1:
        for attr in ("view_x", "obs"):
            x = getattr(recipe, attr, None)
            if isinstance(x, torch.Tensor) and len(x):
                return (x[:count].cpu(),)
    noise = getattr(recipe, "fixed_noise", None)
    if isinstance(noise, torch.Tensor) and graph_name == next(iter(recipe.built)):
        return (noise[:count].cpu(),)
    data = getattr(recipe, "data", None)
    if data is not None and hasattr(data, "val_x"):
        return (data.val_x[:count],)
    raise ValueError(f"the '{s.recipe}' paradigm has no inputs of its own for graph '{graph_name}'")
