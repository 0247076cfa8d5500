"""Plots, checked through the data they draw (decimation, confusion counts, ROC/PR points) and rendered."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from mlgate import plotdata, plots
from mlgate.errors import ConfigError, MetricsError
from mlgate.model import Predictions

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOSTILE = [
    "$x$",
    "$\\undefinedcommand{$",
    "_private",
    "a_b^c \\frac{1}{2}",
    "$$",
    "tab\tnew\nline\x00nul",
    "emoji 😀 and CJK 漢字 \U0010ffff",
    "x" * 500,
    "",
]


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from IHDR, after checking the signature and that no text chunk (Software) is there."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    assert png_text_keys(data) == []
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def ink(path: Path) -> np.ndarray:
    """Where the PNG holds anything but the white background: a (height, width) mask."""
    from matplotlib.image import imread

    return np.asarray((imread(path)[..., :3] < 0.99).any(axis=2))


def png_text_keys(data: bytes) -> list[bytes]:
    keys, at = [], 8
    while at < len(data):
        length, kind = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8]
        if kind in (b"tEXt", b"iTXt", b"zTXt"):
            keys.append(data[at + 8 : at + 8 + length].split(b"\0")[0])
        at += 12 + length
    return keys


def binary_preds(
    n: int = 300, seed: int = 0, *, ties: bool = False, source: str = "eval/p.csv"
) -> Predictions:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, n)
    score = np.clip(0.35 * y_true + 0.65 * rng.random(n), 0.0, 1.0)
    score = np.round(score, 1) if ties else score
    y_pred = (score >= 0.5).astype(np.int64)
    return Predictions("classification", y_true, y_pred, source, "hash", score=score, labels=("no", "yes"))


def multi_preds(k: int = 4, n: int = 400, seed: int = 1, labels: tuple[str, ...] = ()) -> Predictions:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, k, n))
    return Predictions("classification", y_true, y_pred, "eval/multi.csv", "hash", labels=labels)


def history(n: int = 50, offset: float = 0.0) -> dict[str, list[float]]:
    steps = np.arange(n, dtype=float)
    return {
        "epoch": steps.tolist(),
        "loss": (np.exp(-steps / 10) + offset).tolist(),
        "val_loss": (np.exp(-steps / 12) + offset + 0.05).tolist(),
    }


# --- decimation ------------------------------------------------------------------------------------------


def test_decimate_keeps_each_buckets_min_max_and_endpoints_when_points_exceed_buckets() -> None:
    rng = np.random.default_rng(3)
    x = np.sort(rng.random(100_000)) * 50.0
    y = np.cumsum(rng.standard_normal(x.size))
    buckets = 64
    dx, dy = plotdata.decimate_minmax(x, y, buckets)
    assert dx.size <= 2 * buckets + 2
    assert (dx[0], dy[0], dx[-1], dy[-1]) == (x[0], y[0], x[-1], y[-1])
    which = np.minimum(((x - x[0]) / (x[-1] - x[0]) * buckets).astype(int), buckets - 1)
    kept = set(zip(dx.tolist(), dy.tolist(), strict=True))
    for bucket in range(buckets):
        inside = which == bucket
        lo, hi = np.argmin(np.where(inside, y, np.inf)), np.argmax(np.where(inside, y, -np.inf))
        assert (x[lo], y[lo]) in kept
        assert (x[hi], y[hi]) in kept


def test_decimate_returns_a_subsequence_in_x_order_when_x_unordered() -> None:
    rng = np.random.default_rng(4)
    x = rng.permutation(10_000).astype(float)
    y = np.sin(x / 100.0)
    dx, dy = plotdata.decimate_minmax(x, y, 50)
    assert (np.diff(dx) > 0).all()
    np.testing.assert_array_equal(dy, np.sin(dx / 100.0))
    assert (dx[0], dx[-1]) == (0.0, 9_999.0)


def test_decimate_drops_non_finite_points_when_values_are_missing() -> None:
    x = np.arange(10.0)
    y = np.array([1.0, np.nan, 3.0, np.inf, 5.0, 6.0, -np.inf, 8.0, 9.0, np.nan])
    dx, dy = plotdata.decimate_minmax(x, y, 100)
    np.testing.assert_array_equal(dx, [0.0, 2.0, 4.0, 5.0, 7.0, 8.0])
    np.testing.assert_array_equal(dy, [1.0, 3.0, 5.0, 6.0, 8.0, 9.0])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=400),
    st.integers(1, 40),
)
def test_decimate_keeps_global_extremes_when_data_is_arbitrary(values: list[float], buckets: int) -> None:
    y = np.asarray(values)
    dx, dy = plotdata.decimate_minmax(np.arange(y.size, dtype=float), y, buckets)
    assert dy.min() == y.min()
    assert dy.max() == y.max()
    assert dx.size <= max(y.size, 2 * buckets + 2)
    np.testing.assert_array_equal(dy, y[dx.astype(int)])


# --- curves ----------------------------------------------------------------------------------------------


def test_plot_curve_writes_a_png_of_the_figure_size_when_history_is_given(tmp_path: Path) -> None:
    image = plots.plot_curve("Training loss", history(), history(offset=0.1), "epoch", ["loss"], tmp_path)
    assert image.path.parent == tmp_path
    assert image.path.name.startswith("training-loss-")
    assert png_size(image.path) == (640, 360)
    assert "head solid, base dashed" in image.alt


def test_plot_curve_is_byte_identical_when_rendered_twice(tmp_path: Path) -> None:
    first = plots.plot_curve("Loss", history(), history(offset=0.1), "epoch", [], tmp_path / "a")
    second = plots.plot_curve("Loss", history(), history(offset=0.1), "epoch", [], tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes()


def test_plot_curve_draws_the_base_when_base_is_given(tmp_path: Path) -> None:
    alone = plots.plot_curve("Loss", history(), None, "epoch", ["loss"], tmp_path / "a")
    paired = plots.plot_curve("Loss", history(), history(offset=0.3), "epoch", ["loss"], tmp_path / "b")
    assert alone.path.read_bytes() != paired.path.read_bytes()
    assert "base" not in alone.alt


def test_plot_curve_plots_every_column_but_x_when_ys_is_empty(tmp_path: Path) -> None:
    image = plots.plot_curve("Curves", history(), None, "epoch", [], tmp_path)
    assert image.alt == "Curves: loss, val_loss against epoch"


def test_plot_curve_uses_the_row_index_when_x_is_none(tmp_path: Path) -> None:
    image = plots.plot_curve("Curves", {"loss": np.linspace(1, 0, 30)}, None, None, [], tmp_path)
    assert image.alt == "Curves: loss against row"
    assert png_size(image.path) == (640, 360)


def test_plot_curve_skips_the_base_series_when_base_lacks_the_column(tmp_path: Path) -> None:
    base = {"epoch": [0.0, 1.0], "loss": [1.0, 0.5]}
    image = plots.plot_curve("Curves", history(), base, "epoch", ["loss", "val_loss"], tmp_path)
    assert png_size(image.path) == (640, 360)


@pytest.mark.parametrize("values", [[], [float("nan")] * 5, [2.0]])
def test_plot_curve_renders_when_a_column_is_empty_missing_or_single(
    tmp_path: Path, values: list[float]
) -> None:
    image = plots.plot_curve("Sparse", {"loss": values}, {"loss": [1.0, 0.5]}, None, [], tmp_path)
    assert png_size(image.path) == (640, 360)


def test_plot_curve_raises_metrics_error_naming_the_column_when_it_is_missing(tmp_path: Path) -> None:
    table = {"epoch": [0.0], "loss": [1.0]}
    with pytest.raises(MetricsError, match=r"logs/history.csv: no column 'acc'; columns: 'epoch', 'loss'"):
        plots.plot_curve("Acc", table, None, "epoch", ["acc"], tmp_path, source="logs/history.csv")


def test_plot_curve_raises_metrics_error_when_columns_differ_in_length(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="'epoch' has 3 values but 'loss' has 2"):
        plots.plot_curve("L", {"epoch": [0, 1, 2], "loss": [1.0, 0.5]}, None, "epoch", ["loss"], tmp_path)


def test_plot_curve_raises_metrics_error_when_a_column_is_not_numeric(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="column 'loss' is not numeric"):
        plots.plot_curve("L", {"loss": ["high", "low"]}, None, None, [], tmp_path)  # type: ignore[list-item]


def test_plot_curve_raises_metrics_error_when_a_column_is_nested(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="column 'loss' is not a flat list of numbers"):
        plots.plot_curve("L", {"loss": [[1.0, 2.0], [3.0, 4.0]]}, None, None, [], tmp_path)  # type: ignore[list-item]


def test_plot_curve_raises_metrics_error_when_there_is_nothing_to_plot(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="no column to plot"):
        plots.plot_curve("L", {"epoch": [0.0]}, None, "epoch", [], tmp_path)


@pytest.mark.parametrize("name", HOSTILE)
def test_plot_curve_renders_when_title_and_columns_are_hostile(tmp_path: Path, name: str) -> None:
    image = plots.plot_curve(name, {name + "!": [1.0, 2.0], "_y": [0.5, 0.1]}, None, None, [], tmp_path)
    assert image.path.parent == tmp_path
    assert png_size(image.path) == (640, 360)


def test_plot_curve_writes_inside_out_dir_when_title_looks_like_a_path(tmp_path: Path) -> None:
    image = plots.plot_curve("../../etc/passwd", history(), None, "epoch", [], tmp_path / "out")
    assert image.path.parent == tmp_path / "out"
    assert image.path.name.startswith("etc-passwd-")


def test_plot_curve_writes_two_files_when_titles_share_a_slug(tmp_path: Path) -> None:
    first = plots.plot_curve("Loss (train)", history(), None, "epoch", [], tmp_path)
    second = plots.plot_curve("loss train", history(), None, "epoch", [], tmp_path)
    assert first.path != second.path


def test_plot_curve_output_ignores_global_rc_params_when_the_user_changed_them(tmp_path: Path) -> None:
    import matplotlib

    plain = plots.plot_curve("Loss", history(), None, "epoch", [], tmp_path / "a")
    with matplotlib.rc_context({"lines.linewidth": 9.0, "axes.facecolor": "red", "font.size": 20.0}):
        styled = plots.plot_curve("Loss", history(), None, "epoch", [], tmp_path / "b")
    assert plain.path.read_bytes() == styled.path.read_bytes()


# --- confusion matrix ------------------------------------------------------------------------------------


def test_compute_confusion_equals_the_sklearn_matrix_when_classes_are_many() -> None:
    preds = multi_preds(k=5)
    expected = confusion_matrix(preds.y_true, preds.y_pred, labels=range(5))
    np.testing.assert_array_equal(plotdata.compute_confusion(preds), expected)


def test_compute_confusion_has_a_row_per_label_when_a_class_never_occurs() -> None:
    preds = Predictions(
        "classification", np.array([0, 1]), np.array([1, 1]), "p.csv", "h", labels=("a", "b", "c")
    )
    np.testing.assert_array_equal(plotdata.compute_confusion(preds), [[0, 1, 0], [0, 1, 0], [0, 0, 0]])


@pytest.mark.parametrize(
    ("task", "y_true", "message"),
    [
        ("regression", [0, 1], "needs a classification task"),
        ("classification", [-1, 1], "y_true must hold class codes"),
        ("classification", [0.5, 1], "y_true must hold class codes"),
        ("classification", [0, 40], "41 classes"),
        ("classification", [0, 1, 1], "3 y_true values but 2 y_pred values"),
        ("classification", ["cat", "dog"], "y_true must hold class codes 0..k-1, not <U3 values"),
    ],
)
def test_compute_confusion_raises_metrics_error_when_codes_are_unusable(
    task: str, y_true: list[float], message: str
) -> None:
    preds = Predictions(task, np.array(y_true), np.array([0, 1]), "eval/p.csv", "h")
    with pytest.raises(MetricsError, match=f"eval/p.csv: .*{message}"):
        plotdata.compute_confusion(preds)


def test_plot_confusion_renders_head_and_base_when_base_is_given(tmp_path: Path) -> None:
    image = plots.plot_confusion(binary_preds(), tmp_path, base=binary_preds(seed=9, source="base/p.csv"))
    assert png_size(image.path) == (640, 360)
    assert image.alt == "Confusion matrix of eval/p.csv beside the base's (base/p.csv)"


@pytest.mark.parametrize("k", [2, 12, 30])
def test_plot_confusion_renders_when_labels_are_hostile(tmp_path: Path, k: int) -> None:
    labels = tuple(HOSTILE[i % len(HOSTILE)] + str(i) for i in range(k))
    image = plots.plot_confusion(multi_preds(k=k, labels=labels), tmp_path)
    assert png_size(image.path) == (640, 360)


def test_plot_confusion_leaves_the_figure_edges_blank_when_labels_are_long(tmp_path: Path) -> None:
    labels = tuple(f"{'W' * 20}{i}" for i in range(12))
    image = plots.plot_confusion(multi_preds(k=12, labels=labels), tmp_path, multi_preds(k=12, seed=2))
    drawn = ink(image.path)
    assert drawn.any()
    assert not drawn[:2].any()
    assert not drawn[-2:].any()
    assert not drawn[:, :2].any()
    assert not drawn[:, -2:].any()


def test_plot_confusion_is_byte_identical_when_rendered_twice(tmp_path: Path) -> None:
    first = plots.plot_confusion(multi_preds(), tmp_path / "a")
    second = plots.plot_confusion(multi_preds(), tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes()


# --- ROC and precision-recall ----------------------------------------------------------------------------


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("drop", [False, True])
def test_compute_roc_equals_sklearn_roc_curve_when_scores_tie_or_not(ties: bool, drop: bool) -> None:
    preds = binary_preds(ties=ties)
    assert preds.score is not None
    fpr, tpr, thresholds = plotdata.compute_roc(preds.y_true, preds.score, drop_intermediate=drop)
    expected = roc_curve(preds.y_true, preds.score, drop_intermediate=drop)
    for got, want in zip((fpr, tpr, thresholds), expected, strict=True):
        np.testing.assert_allclose(got, want)
    assert plotdata.area_under(fpr, tpr) == pytest.approx(roc_auc_score(preds.y_true, preds.score))


@pytest.mark.parametrize("ties", [False, True])
def test_compute_pr_equals_sklearn_precision_recall_curve_when_scores_tie_or_not(ties: bool) -> None:
    preds = binary_preds(ties=ties)
    assert preds.score is not None
    precision, recall, thresholds = plotdata.compute_pr(preds.y_true, preds.score)
    expected = precision_recall_curve(preds.y_true, preds.score)
    for got, want in zip((precision, recall, thresholds), expected, strict=True):
        np.testing.assert_allclose(got, want)
    ap = average_precision_score(preds.y_true, preds.score)
    assert plotdata.average_precision(precision, recall) == pytest.approx(ap)


def test_plot_roc_shows_head_and_base_auc_when_base_is_given(tmp_path: Path) -> None:
    head, base = binary_preds(), binary_preds(seed=5)
    image = plots.plot_roc(head, tmp_path, base)
    head_auc, base_auc = (roc_auc_score(p.y_true, p.score) for p in (head, base))
    assert image.alt == f"ROC curve: head AUC {head_auc:.4f}, base AUC {base_auc:.4f}"
    assert png_size(image.path) == (640, 360)


def test_plot_pr_shows_the_average_precision_when_rendered(tmp_path: Path) -> None:
    head = binary_preds(ties=True)
    image = plots.plot_pr(head, tmp_path)
    assert image.alt == f"Precision-recall: head AP {average_precision_score(head.y_true, head.score):.4f}"
    assert png_size(image.path) == (640, 360)


def test_plot_roc_is_byte_identical_when_rendered_twice(tmp_path: Path) -> None:
    first = plots.plot_roc(binary_preds(), tmp_path / "a", binary_preds(seed=2))
    second = plots.plot_roc(binary_preds(), tmp_path / "b", binary_preds(seed=2))
    assert first.path.read_bytes() == second.path.read_bytes()


def test_plot_roc_draws_a_long_curve_decimated_when_eval_set_is_large(tmp_path: Path) -> None:
    image = plots.plot_roc(binary_preds(n=200_000), tmp_path)
    assert png_size(image.path) == (640, 360)


def _without_score(preds: Predictions) -> Predictions:
    return Predictions(preds.task, preds.y_true, preds.y_pred, preds.source, "h", labels=preds.labels)


@pytest.mark.parametrize(
    ("preds", "message"),
    [
        (_without_score(binary_preds()), "no score column"),
        (multi_preds(k=3), "need a binary classification, got 3 classes"),
        (
            Predictions("regression", np.array([0.2, 1.5]), np.array([0.1, 1.4]), "eval/p.csv", "h"),
            "need a binary classification, not a regression task",
        ),
        (
            Predictions("classification", np.ones(4), np.ones(4), "eval/p.csv", "h", score=np.full(4, 0.5)),
            "need examples of both classes",
        ),
        (
            Predictions(
                "classification",
                np.array([0, 1]),
                np.array([0, 1]),
                "eval/p.csv",
                "h",
                score=np.array([0.1, np.nan]),
            ),
            "one finite number per example",
        ),
    ],
)
@pytest.mark.parametrize("plot", [plots.plot_roc, plots.plot_pr])
def test_plot_roc_and_pr_raise_metrics_error_when_predictions_do_not_fit(
    tmp_path: Path, preds: Predictions, message: str, plot: object
) -> None:
    with pytest.raises(MetricsError, match=message) as caught:
        plot(preds, tmp_path)  # type: ignore[operator]
    assert caught.value.where == preds.source
    assert not list(tmp_path.iterdir())


# --- user images -----------------------------------------------------------------------------------------


def write_png(path: Path, payload: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PNG_MAGIC + b"\x00\x00\x00\x0dIHDR" + payload)
    return path


def test_collect_images_copies_matching_pngs_into_out_dir_when_pattern_matches(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_png(repo / "plots" / "b.png", b"b")
    write_png(repo / "plots" / "a.png", b"a")
    notes: list[str] = []
    images = plots.collect_images(repo, "plots/*.png", tmp_path / "out", notes=notes)
    assert [image.title for image in images] == ["plots/a.png", "plots/b.png"]
    assert images[0].path.parent == tmp_path / "out"
    assert images[0].path.read_bytes() == (repo / "plots" / "a.png").read_bytes()
    assert notes == []


def test_collect_images_leaves_out_a_file_when_its_magic_bytes_are_not_png(tmp_path: Path) -> None:
    (tmp_path / "fake.png").write_text("<svg/>")
    notes: list[str] = []
    assert plots.collect_images(tmp_path, "*.png", tmp_path / "out", notes=notes) == []
    assert notes == ["image 'fake.png' left out: not a PNG file"]


def test_collect_images_leaves_out_a_file_when_it_is_over_the_size_cap(tmp_path: Path) -> None:
    big = write_png(tmp_path / "big.png")
    with big.open("r+b") as handle:
        handle.truncate(plots.MAX_IMAGE_BYTES + 1)
    notes: list[str] = []
    assert plots.collect_images(tmp_path, "*.png", tmp_path / "out", notes=notes) == []
    assert notes == ["image 'big.png' left out: 5.0 MiB is over the 5 MiB limit"]


def test_collect_images_keeps_the_first_twenty_when_more_match(tmp_path: Path) -> None:
    for i in range(23):
        write_png(tmp_path / "p" / f"{i:02d}.png", bytes([i]))
    notes: list[str] = []
    images = plots.collect_images(tmp_path, "p/*.png", tmp_path / "out", notes=notes)
    assert [image.title for image in images] == [f"p/{i:02d}.png" for i in range(20)]
    assert notes == ["image 'p/*.png': 3 more files left out, at most 20 are shown"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks on this platform")
def test_collect_images_leaves_out_a_symlink_when_it_points_outside_the_repository(tmp_path: Path) -> None:
    secret = write_png(tmp_path / "outside" / "secret.png")
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "leak.png").symlink_to(secret)
    notes: list[str] = []
    assert plots.collect_images(tmp_path / "repo", "*.png", tmp_path / "out", notes=notes) == []
    assert notes == ["image 'leak.png' left out: it points outside the repository"]


@pytest.mark.parametrize("pattern", ["../*.png", "/etc/*.png", "plots/../../x.png", ""])
def test_collect_images_raises_config_error_when_pattern_leaves_the_repository(
    tmp_path: Path, pattern: str
) -> None:
    with pytest.raises(ConfigError, match="must be relative and stay inside the repository"):
        plots.collect_images(tmp_path, pattern, tmp_path / "out")


def test_collect_images_raises_config_error_when_pattern_is_not_a_glob(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'plots/a\*\*b.png' is not a valid glob"):
        plots.collect_images(tmp_path, "plots/a**b.png", tmp_path / "out")


def test_collect_images_notes_it_when_nothing_matches(tmp_path: Path) -> None:
    notes: list[str] = []
    assert plots.collect_images(tmp_path, "plots/*.png", tmp_path / "out", notes=notes) == []
    assert notes == ["image 'plots/*.png': no file matched"]


def test_collect_images_ignores_its_own_output_when_out_dir_is_inside_root(tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    first = plots.collect_images(tmp_path, "**/*.png", tmp_path / ".mlgate")
    again = plots.collect_images(tmp_path, "**/*.png", tmp_path / ".mlgate")
    assert [image.title for image in first] == [image.title for image in again] == ["a.png"]


# --- import cost -----------------------------------------------------------------------------------------


def test_importing_plots_loads_neither_matplotlib_nor_numpy_when_nothing_is_drawn() -> None:
    code = "import sys, mlgate.plots; print(sorted(m for m in ('matplotlib', 'numpy') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
