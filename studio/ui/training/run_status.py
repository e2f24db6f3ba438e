"""What the training panel says about a run besides its progress: the fault of a failed run (message,
the node selected in the canvas, the setting's field marked) and the banner naming the snapshot
that trains. A mixin of :class:`studio.ui.training.panel.TrainingPanel`, kept apart so the panel
stays about settings and controls.
"""

from __future__ import annotations

import time


class RunStatus:
    """Error display and the snapshot banner; expects the panel's widgets (error_label, banner, ...)."""

    # -- errors ----------------------------------------------------------------------------
    def show_error(self, final) -> None:
        where = []
        if final.node:
            where.append(f"node '{final.node}'")
        if final.setting:
            where.append(f"setting '{final.setting}'")
        head = "Training failed" + (f" at {', '.join(where)}" if where else "")
        self.error_label.setText(f"{head}: {final.message}")
        self.error_label.show()
        self.progress_label.setText("Training failed — see the message above.")
        self.show_node_button.setVisible(bool(final.node_id))
        self.reveal_error()
        if final.setting:
            key = final.setting if final.setting in self.controls else {"dataset": "dataset.name"}.get(final.setting)
            row = self.controls.get(key or "")
            if row is not None:
                row.show_problem(final.message)
                self.control_for(row.field_spec.key)

    def _clear_error_marks(self) -> None:
        for row in self.controls.values():
            row.show_problem(None)

    def error_graph_id(self, final) -> str | None:
        project = self.document.project
        for g in project.graphs:
            if final.node_id and final.node_id in g.nodes:
                return g.id
        if final.graph:
            for g in project.graphs:
                if g.name == final.graph:
                    return g.id
        return None

    def reveal_error(self) -> None:
        """Select (and centre on) the node the last fault names, if it is still in the project."""
        final = self.last_final
        if final is None or not final.node_id:
            return
        gid = self.error_graph_id(final)
        if gid is None or final.node_id not in self.document.project.graph(gid).nodes:
            return
        self.document.set_current_graph(gid)
        self.document.set_selection(gid, [final.node_id])
        if self.window is not None and hasattr(self.window, "reveal_node"):
            self.window.reveal_node(gid, final.node_id)

    # -- banner ----------------------------------------------------------------------------
    def _update_banner(self) -> None:
        if self.last_run is None:
            self.banner.hide()
            return
        at = time.strftime("%H:%M", time.localtime(self.snapshot_time))
        edited = self.document.undo_stack.index() != self.snapshot_version
        if self.running:
            text = f"Training snapshot taken at {at} — edits apply to the next run."
            if edited:
                text += " The project has changed since."
        else:
            text = f"Last run used the snapshot taken at {at}."
            if edited:
                text += " The project has changed since; train again to use the edits."
        self.banner.setText(text)
        self.banner.show()

    def _on_index_changed(self, _index: int) -> None:
        try:
            self._update_banner()
        except RuntimeError:  # the document is being torn down with the window
            pass

    def _tick(self) -> None:
        self._update_banner()

