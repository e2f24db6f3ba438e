"""The analysis workspace: explain, attack, compress and tune a trained run, from one window.

Every tab runs its work on a :class:`studio.ui.tasks.TaskRunner` and only shows results on the GUI
thread; the computations are :mod:`studio.analysis`'s, the same ones the command line runs.
"""

from studio.ui.analysis.workspace import AnalysisWorkspace, open_workspace

__all__ = ["AnalysisWorkspace", "open_workspace"]
