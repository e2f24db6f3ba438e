"""The screenshot scripts cover every template, stage and paradigm without a hand-kept list, and their
layout check finds what a user would see cut: an elided label, a button half outside its panel."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from studio.io.stages import stages
from studio.io.templates import list_templates, load_template
from studio.train.recipes.registry import recipe_names
from tools.screen_checks import layout_problems
from tools.screenshots import training_cases


def test_training_cases_cover_every_template_stage_and_paradigm(registry):
    cases = {name: (make, stage) for name, make, stage in training_cases(registry)}
    recipes = set()
    for info in list_templates():
        project = load_template(info.key, registry)
        for stage in [None, *stages(project)]:
            assert f"{info.key}__{stage or 'as_is'}" in cases
        recipes.add(project.training.get("recipe", "classification"))
        recipes |= {s.get("training", {}).get("recipe") for s in stages(project).values()} - {None}
    for recipe in recipe_names():  # a paradigm no template trains is shown on a demo switched to it
        if recipe not in recipes:
            make, stage = cases[f"paradigm-{recipe}__as_is"]
            assert make().training["recipe"] == recipe and stage is None
    shown_on_demo = {n.removeprefix("paradigm-").removesuffix("__as_is") for n in cases if n.startswith("paradigm-")}
    assert shown_on_demo == set(recipe_names()) - recipes


def test_layout_check_reports_elided_text_and_cut_controls(qtbot):
    root = QWidget()
    qtbot.addWidget(root)
    root.resize(300, 120)
    column = QVBoxLayout(root)
    column.addWidget(QLabel("Short"))
    root.show()
    qtbot.waitExposed(root)
    assert layout_problems(root) == []
    narrow = QLabel("A label far too long for the forty pixels it is given", root)
    narrow.setGeometry(10, 60, 40, 20)
    narrow.show()
    half_out = QPushButton("Train", root)
    half_out.setGeometry(260, 90, 100, 30)  # 40 of its 100 px inside the window
    half_out.show()
    found = layout_problems(root)
    assert any("far too long" in p and "elided" in p for p in found), found
    assert any("'Train' cut off" in p for p in found), found
