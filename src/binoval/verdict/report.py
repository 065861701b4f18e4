"""The run's report: ``report.md`` with the verdict first, then every stage's figures and plots.

Sections: verdict table and recommendation; model comparison (LOO, WAIC,
mixture K choice, comparison plot); per stage, the stage's reasons per model
and any plots that stage registered (``stage_plots``: {stage: {model_id:
[png paths]}} — the PPC and SBC rules register theirs the same way); LOO
(Pareto k plot); population read-out (shrinkage, ICC, new-group predictive,
pairwise probabilities); mixture read-out (clusters, membership, accuracy
against a true-cluster column when the data has one).

``verdict_rst`` renders the verdict table as reStructuredText for the
Snakemake HTML report's front page.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from binoval.loo.compare import tolerance_rule
from binoval.verdict.verdict import STAGE_ORDER, failing_reasons


def _md_table(df: pd.DataFrame, floatfmt: str = ".3f") -> str:
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return format(float(v), floatfmt)
        return str(v).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def verdict_frame(verdict: Mapping) -> pd.DataFrame:
    """One row per model: verdict, each stage's status, failing reasons."""
    rows = []
    stages = [s for s in STAGE_ORDER if any(s in m["stages"] for m in verdict["models"].values())]
    for model_id, model in verdict["models"].items():
        row = {"model": model_id, "verdict": model["verdict"]}
        for stage in stages:
            row[stage] = model["stages"].get(stage, {}).get("status", "-")
        row["failing reasons"] = "; ".join(failing_reasons(model)) or "-"
        rows.append(row)
    return pd.DataFrame(rows)


def _rst_escape(text: str) -> str:
    """Backslash-escape reStructuredText markup characters in plain text (reasons, ids)."""
    for char in ("\\", "*", "`", "_", "|", "[", "]"):
        text = text.replace(char, "\\" + char)
    return text


def verdict_rst(verdict: Mapping, reason: str, report_md: str) -> str:
    """The verdict as reStructuredText (front page of ``snakemake --report``)."""
    frame = verdict_frame(verdict)
    lines = [
        "binoval verdict",
        "===============",
        "",
        f"Run **{_rst_escape(verdict['run'])}** on dataset ``{verdict['dataset']}``: overall **{verdict['overall']}**; "
        f"recommended model: **{_rst_escape(verdict['recommended_model'] or 'none')}** ({_rst_escape(reason)}).",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
    ]
    for i, row in enumerate([list(frame.columns)] + frame.astype(str).values.tolist()):
        for j, value in enumerate(row):
            value = _rst_escape(value) if value not in ("", "-") else "none"
            lines.append(f"   {'* -' if j == 0 else '  -'} {value}")
    lines += ["", f"The full report (stage figures and plots) is ``{report_md}``; its plots are listed under Results.", ""]
    return "\n".join(lines)


def _savefig(fig, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return str(path)


def plot_comparison(comparison: pd.DataFrame, path: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    loo = comparison[comparison["criterion"] == "loo"].sort_values("rank")
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(loo) + 1.6), layout="constrained")
    y = np.arange(len(loo))[::-1]
    ax.errorbar(loo["elpd"], y, xerr=loo["se"], fmt="o", color="black", label="elpd_loo ± se")
    best = loo["elpd"].iloc[0]
    ax.errorbar(best - loo["elpd_diff"], y - 0.2, xerr=loo["dse"], fmt="^", color="grey", label="difference from best ± paired se")
    ax.axvline(best, color="grey", linestyle=":")
    ax.set_yticks(y, loo["model_id"])
    ax.set_xlabel("elpd_loo (higher is better)")
    fig.legend(fontsize=8, loc="outside lower center", ncols=2)
    return _savefig(fig, path)


def plot_pareto_k(loo_tables: Mapping[str, pd.DataFrame], path: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from binoval.loo.psis import k_threshold

    models = list(loo_tables)
    cols = min(3, len(models))
    rows = int(np.ceil(len(models) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), squeeze=False, sharey=True, layout="constrained")
    for ax, model_id in zip(axes.flat, models):
        t = loo_tables[model_id]
        threshold = k_threshold(int(t["total_draws"].iloc[0]))
        colors = np.where(t["pareto_k"] > threshold, "tab:red", "tab:blue")
        ax.scatter(np.arange(len(t)), t["pareto_k"], c=colors, s=18)
        ax.axhline(threshold, color="tab:red", linestyle="--", linewidth=1)
        ax.set_title(model_id, fontsize=9)
        ax.set_xlabel("group index", fontsize=8)
    for ax in list(axes.flat)[len(models):]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel("Pareto k")
    return _savefig(fig, path)


def plot_shrinkage(table: pd.DataFrame, model_id: str, path: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    size = 20 + 200 * table["n"] / table["n"].max()
    ax.vlines(table["observed"], table["hdi_low"], table["hdi_high"], color="lightgrey")
    ax.scatter(table["observed"], table["posterior_mean"], s=size, alpha=0.7)
    lo = min(table["observed"].min(), table["hdi_low"].min())
    hi = max(table["observed"].max(), table["hdi_high"].max())
    ax.plot([lo, hi], [lo, hi], color="grey", linestyle=":")
    ax.set_xlabel("observed proportion r/n")
    ax.set_ylabel("posterior mean rate (94% HDI)")
    ax.set_title(f"shrinkage: {model_id} (marker size ~ n)", fontsize=9)
    return _savefig(fig, path)


def plot_membership(member: pd.DataFrame, model_id: str, path: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [c for c in member.columns if c.startswith("p_cluster_")]
    order = (member["r"] / member["n"]).argsort().to_numpy()
    fig, ax = plt.subplots(figsize=(max(5, 0.25 * len(member)), 3))
    bottom = np.zeros(len(member))
    for c in cols:
        values = member[c].to_numpy()[order]
        ax.bar(np.arange(len(member)), values, bottom=bottom, label=c.replace("p_cluster_", "cluster "))
        bottom += values
    ax.set_xticks(np.arange(len(member)), member["group"].to_numpy()[order], rotation=90, fontsize=7)
    ax.set_ylabel("P(membership)")
    ax.set_title(f"membership: {model_id} (groups by observed rate)", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    return _savefig(fig, path)


def _image(path: str, md_dir: Path, alt: str) -> str:
    return f"![{alt}]({os.path.relpath(path, md_dir)})"


def build_report(
    verdict: Mapping,
    recommendation_reason: str,
    comparison: pd.DataFrame,
    loo_tables: Mapping[str, pd.DataFrame],
    readouts: Mapping[str, Mapping],
    md_path: str | os.PathLike,
    plot_dir: str | os.PathLike,
    stage_plots: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    new_group_n: int | None = None,
    tolerance: Mapping[str, float] | None = None,
) -> str:
    """The report's markdown; writes its plots into ``plot_dir``.

    ``readouts``: per model id, the read-out figures (keys ``shrinkage``,
    ``icc``, ``new_group``, ``pairs``, ``clusters``, ``membership``,
    ``confusion``, ``accuracy``; any may be missing).
    """
    md_dir = Path(md_path).parent
    plot_dir = Path(plot_dir)
    out = [f"# binoval report: run `{verdict['run']}` (dataset `{verdict['dataset']}`)", ""]
    out += [
        "## Verdict",
        "",
        f"Overall: **{verdict['overall']}**. Recommended model: **{verdict['recommended_model'] or 'none'}** — {recommendation_reason}.",
        "",
        "A model is accepted when none of its stages FAILs.",
        "",
        _md_table(verdict_frame(verdict)),
        "",
    ]

    out += ["## Model comparison", ""]
    for ic in ("loo", "waic"):
        part = comparison[comparison["criterion"] == ic].sort_values("rank")
        table = part[["rank", "model_id", "elpd", "se", "p", "elpd_diff", "dse", "weight", "warning"]].rename(
            columns={"elpd": f"elpd_{ic}", "p": f"p_{ic}", "weight": "stacking weight"}
        )
        out += [f"### {ic.upper()}", "", _md_table(table, ".2f"), ""]
    out += [tolerance_rule(tolerance), ""]
    mixtures = comparison[(comparison["criterion"] == "loo") & (comparison["mixture"] != "")]
    if len(mixtures):
        out += ["### Mixture: number of clusters", ""]
        for base, part in mixtures.groupby("mixture"):
            chosen = part[part["k_selected"]].iloc[0]
            out += [f"- `{base}`: chosen **K = {chosen['K']}** ({chosen['model_id']}). {chosen['k_reason']}."]
        out += [""]
    if len(loo_tables) >= 1:
        out += [_image(plot_comparison(comparison, plot_dir / "comparison.png"), md_dir, "model comparison"), ""]

    out += ["## Stages", ""]
    stage_plots = stage_plots or {}
    stages = [s for s in STAGE_ORDER if any(s in m["stages"] for m in verdict["models"].values())]
    for stage in stages:
        out += [f"### {stage}", ""]
        for model_id, model in verdict["models"].items():
            if stage not in model["stages"]:
                continue
            result = model["stages"][stage]
            out += [f"- **{model_id}**: {result['status']}"] + [f"  - {r}" for r in result["reasons"]]
        out += [""]
        for model_id, paths in stage_plots.get(stage, {}).items():
            for path in paths:
                out += [_image(path, md_dir, f"{stage} {model_id}"), ""]
        if stage == "loo" and loo_tables:
            out += [_image(plot_pareto_k(loo_tables, plot_dir / "pareto_k.png"), md_dir, "Pareto k per group"), ""]
            out += ["Dashed line: the Pareto k threshold min(1 - 1/log10 S, 0.7); red groups are above it.", ""]

    out += ["## Population read-out", ""]
    for model_id, r in readouts.items():
        if "shrinkage" not in r:
            continue
        out += [f"### {model_id}", ""]
        if "icc" in r:
            icc = r["icc"]
            out += [f"ICC (latent scale, tau² / (tau² + π²/3)): **{icc['mean']:.3f}** (94% HDI {icc['hdi_low']:.3f} – {icc['hdi_high']:.3f}).", ""]
        if "new_group" in r:
            g = r["new_group"]
            out += [
                f"A new group of n = {g['n']}: rate {g['rate_mean']:.3f} (94% HDI {g['rate_low']:.3f} – {g['rate_high']:.3f}); "
                f"successes mean {g['r_mean']:.1f}, median {g['r_median']:.0f}, 90% interval [{g['r_q05']:.0f}, {g['r_q95']:.0f}], "
                f"P(r = 0) = {g['p_zero']:.3f}.",
                "",
            ]
        if "pairs" in r and len(r["pairs"]):
            out += ["Posterior probability that one group's rate exceeds another's:", "", _md_table(r["pairs"]), ""]
        out += ["Shrinkage (observed proportion vs posterior mean):", "", _md_table(r["shrinkage"], ".4f"), ""]
        out += [_image(plot_shrinkage(r["shrinkage"], model_id, plot_dir / f"shrinkage_{model_id}.png"), md_dir, f"shrinkage {model_id}"), ""]

    mixture_models = [m for m, r in readouts.items() if "clusters" in r]
    if mixture_models:
        out += ["## Mixture read-out", ""]
        for model_id in mixture_models:
            r = readouts[model_id]
            out += [f"### {model_id}", "", "Clusters (ordered by mean):", "", _md_table(r["clusters"]), ""]
            out += ["Membership probabilities:", "", _md_table(r["membership"]), ""]
            if "confusion" in r:
                confusion = r["confusion"].reset_index()
                confusion.columns = [str(c) for c in confusion.columns]
                out += [
                    f"Accuracy of the most likely cluster against `true_cluster` (true clusters ordered by observed rate): "
                    f"**{r['accuracy']:.2f}**",
                    "",
                    _md_table(confusion),
                    "",
                ]
            out += [_image(plot_membership(r["membership"], model_id, plot_dir / f"membership_{model_id}.png"), md_dir, f"membership {model_id}"), ""]
    return "\n".join(out) + "\n"
