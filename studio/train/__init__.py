"""Training engine: recipes, datasets, metrics, checkpoints and the cancellable loop. No Qt.

Importing this package is cheap; the modules import torch. The pieces a front end uses:

- ``studio.train.engine.run(project.snapshot(), registry, settings=None, control=RunControl(),
  checkpoint_dir=None, resume_from=None, throttle_s=0.05, view_interval_s=1.0)`` -> iterator of
  :class:`studio.train.engine.Update` (``kind``: started, step, views, epoch, paused, then one of
  done / cancelled / error). Settings default to ``project.training``. Run it in a worker thread;
  call ``control.cancel()`` / ``pause()`` / ``resume()`` from any thread. Keep iterating after
  ``cancel()`` until the final update so the last checkpoint (``last.pt``) gets written.
- ``studio.train.settings.TrainingSettings.from_dict(project.training)`` validates settings
  (``SettingsError.key`` is the dotted key); ``settings_form.describe()`` lists every key with default,
  choices, range and help for building forms.
- ``studio.train.views`` documents every live-view payload in ``Update.views``.
- ``studio.train.data.preview(DatasetSettings, seed, input_shape)`` gives sample grids with labels.
- ``studio.train.engine.evaluate(project, registry, checkpoint)`` and ``load_trained(...)`` plus
  ``studio.train.build.activations(built, inputs, node_names)`` serve "after training" panels.
- ``studio.train.script_export.export_train_script(project, registry, out_dir)`` writes
  ``train.py`` + ``data.py`` beside ``studio.compile.exporter.export_project`` output.
"""
