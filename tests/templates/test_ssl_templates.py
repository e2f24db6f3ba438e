"""The self-supervised, clustering and image-diffusion templates: they validate and export with identical
outputs; their shortened runs live beside their recipes' tests, the full bars in ``bench/gallery.py``."""

from __future__ import annotations

from bench.templates import load

SSL_TEMPLATES = ("digits_contrastive", "digits_clustering", "digits_diffusion")


def test_every_ssl_template_validates_and_exports_on_the_bundled_digits(registry):
    from tests.templates.test_templates import _checked  # that module lists these templates as covered

    for key in SSL_TEMPLATES:
        project = _checked(load(key, registry), registry)
        assert project.training["dataset"]["name"] == "digits"
        assert project.meta.get("try_steps"), key
        assert bool(project.meta.get("targets")) == (key != "digits_clustering"), key  # clustering reports, no bar
