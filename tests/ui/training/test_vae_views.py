"""The VAE's live views: reconstructions, latent scatter, prior samples (without GAN loss curves) and the traversal grid."""

from __future__ import annotations

from bench.templates import load, train


def test_vae_views_fill_their_pages(qtbot, registry):
    from studio.ui.training.views import LiveViews

    r = train(load("digits_vae", registry), registry, {"epochs": 2, "steps_per_epoch": 5, "threads": 1})
    views = LiveViews()
    qtbot.addWidget(views)
    views.resize(1280, 720)
    views.show()
    views.show_views(r.update.views)
    titles = [views.tabText(i) for i in range(views.count())]
    assert titles == ["Reconstruction", "Latent space", "Generated samples", "Latent traversal"]
    traversal = views.parts["traversal"]
    assert len(traversal.tiles) == 8 * 9 and traversal.columns == 9
    assert traversal.tiles[0].caption.startswith("z") and traversal.tiles[1].caption == ""
    assert not views.parts["gan_losses"].parentWidget().isVisibleTo(views)
    assert "prior" in views.parts["gan_grid"].title
    assert len(views.parts["gan_grid"].tiles) == 64
