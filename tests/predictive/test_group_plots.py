"""Per-group plots stay readable at any number of groups: labelled groups when few, groups ordered by trials (and
coverage by group size) when many, and never an image larger than about 3000 px."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from binoval.predictive.plots import LABELLED_GROUPS, plot_ppc_groups, plot_prior_predictive_groups
from binoval.verdict.report import plot_membership

MAX_PIXELS = 3000


def group_frame(groups: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = rng.integers(20, 2000, size=groups)
    p = rng.beta(2, 6, size=groups)
    r = rng.binomial(n, p)
    frame = pd.DataFrame({"model_id": "m", "group": [f"g{i}" for i in range(groups)], "n": n, "r": r})
    frame["observed_proportion"] = r / n
    return frame


def ppc_groups(groups: int) -> pd.DataFrame:
    frame = group_frame(groups)
    n = frame["n"].to_numpy()
    for level, half in ((50, 0.03), (90, 0.08), (95, 0.1)):
        frame[f"lower_{level}"] = np.floor(np.clip(frame["observed_proportion"] - half, 0, 1) * n).astype(int)
        frame[f"upper_{level}"] = np.ceil(np.clip(frame["observed_proportion"] + half, 0, 1) * n).astype(int)
        frame[f"inside_{level}"] = True
    frame.loc[::37, "inside_95"] = False
    return frame


def prior_groups(groups: int) -> pd.DataFrame:
    frame = group_frame(groups)
    for column, value in (("q05", 0.02), ("q25", 0.1), ("median", 0.25), ("q75", 0.4), ("q95", 0.8)):
        frame[column] = value
    return frame


def size_of(path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


@pytest.mark.parametrize("groups", [12, 1000, 10_000])
def test_posterior_predictive_groups_plot_is_bounded(groups, tmp_path):
    path = tmp_path / "ppc.png"
    plot_ppc_groups(ppc_groups(groups), path, "m")
    width, height = size_of(path)
    assert width <= MAX_PIXELS and height <= MAX_PIXELS


@pytest.mark.parametrize("groups", [12, 1000])
def test_prior_predictive_groups_plot_is_bounded(groups, tmp_path):
    path = tmp_path / "prior.png"
    summary = pd.DataFrame({"degenerate_share": [0.0], "draws": [4000]})
    plot_prior_predictive_groups(prior_groups(groups), summary, path)
    width, height = size_of(path)
    assert width <= MAX_PIXELS and height <= MAX_PIXELS


def test_few_groups_keep_one_labelled_tick_each(tmp_path, monkeypatch):
    import matplotlib.axes

    labels = []
    original = matplotlib.axes.Axes.set_xticklabels
    monkeypatch.setattr(
        matplotlib.axes.Axes,
        "set_xticklabels",
        lambda ax, ticks, **kw: labels.append(list(ticks)) or original(ax, ticks, **kw),
    )
    plot_ppc_groups(ppc_groups(LABELLED_GROUPS), tmp_path / "few.png", "m")
    assert len(labels[0]) == LABELLED_GROUPS and labels[0][0].startswith("g")
    labels.clear()
    plot_ppc_groups(ppc_groups(LABELLED_GROUPS + 1), tmp_path / "many.png", "m")
    assert len(labels[0]) < 10  # a few ticks labelled with trials, then the size bins of the coverage panel


def test_membership_plot_of_many_groups_is_bounded(tmp_path):
    frame = group_frame(1000)
    weights = np.random.default_rng(1).dirichlet([1, 1, 1], size=1000)
    for k in range(3):
        frame[f"p_cluster_{k + 1}"] = weights[:, k]
    path = plot_membership({"m": frame, "m2": frame}, tmp_path / "member.png")
    width, height = size_of(path)
    assert width <= MAX_PIXELS and height <= MAX_PIXELS


def test_membership_plot_keeps_long_group_names_and_its_legend_inside_the_image(tmp_path, monkeypatch):
    """Its margins are sized from the labels before drawing (no tight bounding box): nothing may be cut off."""
    import binoval.plotting

    frame = group_frame(15)
    frame["group"] = [f"Hospital of Saint Wilhelmina {i}" for i in range(15)]
    weights = np.random.default_rng(2).dirichlet(np.ones(10), size=15)
    for k in range(10):
        frame[f"p_cluster_{k + 1}"] = weights[:, k]
    outside = []
    save_png = binoval.plotting.save_png

    def check_then_save(fig, path, **kwargs):
        fig.canvas.draw()
        width, height = fig.canvas.get_width_height()
        for ax in fig.axes:
            for artist in [*ax.get_xticklabels(), ax.get_legend(), ax.title]:
                box = artist.get_window_extent()
                if artist.get_visible() and (box.x0 < 0 or box.y0 < 0 or box.x1 > width or box.y1 > height):
                    outside.append(artist)
        save_png(fig, path, **kwargs)

    monkeypatch.setattr(binoval.plotting, "save_png", check_then_save)
    plot_membership({"bb_mixture_k10": frame, "other": frame}, tmp_path / "member.png")
    assert not outside
