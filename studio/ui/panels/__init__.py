"""Docked panels of the editor window: palette, quick-add, inspector, summary, code, problems.

Each panel observes a :class:`studio.ui.document.Document` and changes the project only through
``document.push(op)``, so every edit is one undo step.
"""
