"""Analysis of a trained model: explain, attack, compress, tune.

Every function here works on a plain ``nn.Module`` and tensors, so it runs headless (CLI, tests)
and under the GUI alike; :mod:`studio.analysis.session` connects it to a project and a run.
The field's libraries do the work — captum for attributions, ``torch.nn.utils.prune`` and
``torch.ao`` for compression, optuna for search — so this package only adapts and reports.
"""
