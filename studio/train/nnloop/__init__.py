"""The training loop NN Studio runs, copied verbatim (as the folder ``nnloop/``) beside every
exported ``train.py``.

Its modules import torch, numpy, the standard library and each other (relatively) only, never
``studio``: the app and an exported project train with the same code — same batches, losses,
optimizer steps, schedules, validation metrics, early stopping and ``metrics.csv`` columns.

- :mod:`.parts`: batches, losses, metrics, optimizers, schedules, initialisation;
- :mod:`.tasks`: one task per paradigm (``step`` / ``flush`` / ``evaluate``);
- :mod:`.trainer`: the epoch loop (:class:`~.trainer.Trainer`), :func:`~.trainer.fit`,
  :func:`~.trainer.write_metrics_csv`.
"""
