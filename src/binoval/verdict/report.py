"""The run's report: ``report.md`` with the verdict first, then every stage's findings and plots.

Sections: the compact verdict (overall verdict, recommended model and why, a table of model,
verdict and one status per stage, then each model's FAIL and WARN findings); model comparison
(LOO, WAIC, mixture K choice, comparison plot); per stage, per model, every finding and the plots
the stage drew (``stage_plots``: {stage: {model_id: [png paths]}}, from the workflow's
``<stage>_plots`` hooks), the LOO section adding the Pareto k plot; population read-out
(shrinkage, ICC, new-group predictive, pairwise probabilities); mixture read-out (clusters,
membership, accuracy against a true-cluster column when the data has one).

``verdict_rst`` renders the same compact verdict as reStructuredText for the front page of the
Snakemake HTML report; ``report_plot_category`` files the report's own plots under the stage
they belong to (or the read-out), beside the stages' categories (``STAGE_TITLES``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from binoval.loo.compare import tie_rule
from binoval.verdict.status import FAIL, WARN
from binoval.verdict.verdict import STAGE_ORDER, failing_reasons, stage_table_paths


def _md_table(df: pd.DataFrame, floatfmt: str = ".3f") -> str:
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return format(float(v), floatfmt)
        return str(v).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


#: How each stage is named to a reader: report.md headings and verdict columns, HTML report categories.
STAGE_TITLES = {
    "prior_predictive": "prior predictive",
    "sbc": "SBC",
    "fit": "fit",
    "ppc": "posterior predictive",
    "posterior_sbc": "posterior SBC",
    "sensitivity": "prior sensitivity",
    "loo": "LOO",
}
#: HTML report category of the read-out plots (shrinkage, mixture membership) that no stage draws.
READOUT_CATEGORY = "read-out"
#: Findings listed below the verdict table, most severe first (PASS summaries stay in the per-stage sections).
LISTED_STATUSES = (FAIL, WARN)


def stage_title(stage: str) -> str:
    """The reader's name of a stage (its id when it has none)."""
    return STAGE_TITLES.get(stage, stage)


def stage_plot_report(stage: str, plot: str) -> dict:
    """Keyword arguments of Snakemake's ``report()`` for one model's ``plot`` drawn by ``stage``.

    Filed under the stage's title, a subcategory per model (the rule's ``{model_id}`` wildcard).
    """
    labels = {"model": "{model_id}", "plot": plot}
    return {"category": stage_title(stage), "subcategory": "{model_id}", "labels": labels}


#: Plots ``build_report`` draws into its plot directory, one file each for all models, by kind (the file stem),
#: and the stage whose HTML report category shows them (None: read-out).
REPORT_PLOTS = {"comparison": "loo", "k_posterior": "loo", "pareto_k": "loo", "shrinkage": None, "membership": None}
#: HTML report subcategory of the report's own plots (each shows every model).
REPORT_PLOT_SUBCATEGORY = "all models"


def report_plot_path(plot_dir: str | os.PathLike, kind: str) -> Path:
    """Where ``build_report`` writes the plot of ``kind`` (a key of ``REPORT_PLOTS``)."""
    if kind not in REPORT_PLOTS:
        raise ValueError(f"unknown report plot {kind!r}; known: {', '.join(REPORT_PLOTS)}")
    return Path(plot_dir) / f"{kind}.png"


def report_plot_category(name: str) -> str:
    """HTML report category of a plot ``build_report`` drew, from its file stem: its stage's title, or read-out."""
    if name not in REPORT_PLOTS:
        raise ValueError(f"{name!r} is not a plot build_report draws (kinds: {', '.join(REPORT_PLOTS)})")
    stage = REPORT_PLOTS[name]
    return stage_title(stage) if stage else READOUT_CATEGORY


def _judged_stages(verdict: Mapping) -> list[str]:
    """The stages of ``STAGE_ORDER`` that at least one model of the verdict has."""
    return [s for s in STAGE_ORDER if any(s in m["stages"] for m in verdict["models"].values())]


def verdict_frame(verdict: Mapping) -> pd.DataFrame:
    """One row per model: its verdict and one status per stage ("-" when the model lacks the stage)."""
    stages = _judged_stages(verdict)
    rows = []
    for model_id, model in verdict["models"].items():
        row = {"model": model_id, "verdict": model["verdict"]}
        for stage in stages:
            row[stage_title(stage)] = model["stages"].get(stage, {}).get("status", "-")
        rows.append(row)
    return pd.DataFrame(rows)


def model_findings(model: Mapping) -> list[tuple[str, str]]:
    """(status, ``stage: reason``) for every FAIL, then every WARN finding of one model's verdict entry."""
    return [(status, reason) for status in LISTED_STATUSES for reason in failing_reasons(model, status)]


def _rst_escape(text: str) -> str:
    """Backslash-escape reStructuredText markup characters in plain text (reasons, ids)."""
    for char in ("\\", "*", "`", "_", "|", "[", "]"):
        text = text.replace(char, "\\" + char)
    return text


#: Colours of the status cells on the HTML front page (class ``binoval-<status>``).
_STATUS_COLOURS = {"PASS": "#1a7f37", "ACCEPT": "#1a7f37", "WARN": "#9a6700", "FAIL": "#cf222e", "REJECT": "#cf222e"}


#: Page style of the front page, for Snakemake's landing page (Tailwind classes of its template): that page centres
#: its content vertically in a window-high box and caps it at ``max-w-lg`` (32rem), so a front page taller than
#: the window would lose its top and a table wider than 32rem would run under the rule graph. Scoped to the box
#: that holds ``#binoval-front``; other pages and plain docutils renderings ignore it.
_FRONT_PAGE_CSS = (
    "div.h-screen:has(#binoval-front) {align-items: flex-start;} div.max-w-lg:has(#binoval-front) {max-width: 46rem;}"
)


def _rst_front_page_style() -> list[str]:
    """The page style, and one role per status so ``:fail:`FAIL``` renders as a coloured, bold word."""
    css = " ".join(f".binoval-{s.lower()} {{color: {c}; font-weight: bold;}}" for s, c in _STATUS_COLOURS.items())
    lines = [".. raw:: html", "", f'   <span id="binoval-front"></span><style>{css} {_FRONT_PAGE_CSS}</style>', ""]
    for status in _STATUS_COLOURS:
        lines += [f".. role:: {status.lower()}", f"   :class: binoval-{status.lower()}", ""]
    return lines


def _rst_cell(value: str) -> str:
    if value in _STATUS_COLOURS:
        return f":{value.lower()}:`{value}`"
    return _rst_escape(value) if value not in ("", "-") else "none"


def verdict_rst(verdict: Mapping, reason: str, report_md: str) -> str:
    """The verdict as reStructuredText (front page of ``snakemake --report``).

    First screen: the overall verdict, the recommended model and why, and a compact table (model,
    verdict, one status per stage); below it each model's FAIL and WARN findings.
    """
    frame = verdict_frame(verdict)
    lines = [
        "binoval verdict",
        "===============",
        "",
        *_rst_front_page_style(),
        f"Run **{_rst_escape(verdict['run'])}** on dataset ``{verdict['dataset']}``: overall **{verdict['overall']}**.",
        "",
        f"Recommended model: **{_rst_escape(verdict['recommended_model'] or 'none')}** — {_rst_escape(reason)}.",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
    ]
    for row in [list(frame.columns)] + frame.astype(str).values.tolist():
        for j, value in enumerate(row):
            lines.append(f"   {'* -' if j == 0 else '  -'} {_rst_cell(value)}")
    lines += ["", "A model is accepted when none of its stages FAILs; a WARN does not reject.", ""]
    lines += ["Findings per model", "------------------", ""]
    for model_id, model in verdict["models"].items():
        lines += [f"**{_rst_escape(model_id)}**: {_rst_cell(model['verdict'])}", ""]
        findings = model_findings(model)
        for status, finding in findings:
            lines.append(f"- {_rst_cell(status)} {_rst_escape(finding)}")
        if not findings:
            lines.append("- every stage passes")
        lines.append("")
    lines += [
        (
            f"The full report (every finding, stage plots, read-outs) is ``{report_md}``; "
            "its plots are listed under Results, one category per stage."
        ),
        "",
    ]
    return "\n".join(lines)


#: Resolution of the report's own figures (lower than the stages' plots: they sit in the text).
REPORT_DPI = 90
#: Font size of the model ids on the comparison plot's y axis.
COMPARISON_LABEL_SIZE = 10


def _savefig(fig, path: Path) -> str:
    """Write one of the report's figures (laid out on fixed margins, so drawn once) and return its path."""
    from binoval.plotting import save_png

    save_png(fig, path, dpi=REPORT_DPI)  # atomic; creates the folder
    return str(path)


def plot_comparison(comparison: pd.DataFrame, path: Path) -> str:
    """One panel per task: each model's elpd_loo ± se and its difference from the task's best ± paired se."""
    from binoval.plotting import GRID_MARGINS, panel_grid, text_width

    loo = comparison[comparison["criterion"] == "loo"]
    tasks = list(dict.fromkeys(loo["task"]))
    label_width = text_width(loo["model_id"], COMPARISON_LABEL_SIZE) + 0.2
    height = 0.45 * loo.groupby("task").size().max() + 1.6
    margins = {**GRID_MARGINS, "left": label_width, "top": 0.45, "bottom": 0.95}
    fig, axes = panel_grid(
        len(tasks), columns=len(tasks), gaps=(label_width + 0.3, 0.6), panel=(6, height), margins=margins
    )
    for ax, task in zip(axes, tasks):
        part = loo[loo["task"] == task].sort_values("rank")
        y = np.arange(len(part))[::-1]
        ax.errorbar(part["elpd"], y, xerr=part["se"], fmt="o", color="black", label="elpd_loo ± se")
        best = part["elpd"].iloc[0]
        ax.errorbar(
            best - part["elpd_diff"], y - 0.2, xerr=part["dse"], fmt="^", color="grey", label="difference ± paired se"
        )
        ax.axvline(best, color="grey", linestyle=":")
        ax.set_yticks(y, part["model_id"], fontsize=COMPARISON_LABEL_SIZE)
        ax.set_title(task, fontsize=10)
        ax.set_xlabel("elpd_loo (higher is better)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncols=2)
    return _savefig(fig, path)


def plot_k_posterior(mixtures: pd.DataFrame, path: Path) -> str:
    """P(K | data) per K for each mixture config id (bars), the chosen K marked."""
    from binoval.plotting import GRID_MARGINS, panel_grid

    bases = list(dict.fromkeys(mixtures["mixture"]))
    margins = {**GRID_MARGINS, "top": 0.45}
    fig, axes = panel_grid(len(bases), columns=len(bases), gaps=(0.6, 0.6), panel=(4, 2.8), margins=margins)
    for ax, base in zip(axes, bases):
        part = mixtures[mixtures["mixture"] == base].sort_values("K")
        colors = np.where(part["k_selected"], "tab:orange", "tab:blue")
        ax.bar(part["K"].astype(str), part["p_k"].fillna(0.0), color=colors)
        ax.set_ylim(0, 1)
        ax.set_xlabel("K (number of clusters)")
        ax.set_title(f"{base}: P(K >= 2) = {part['p_clusters'].iloc[0]:.2f}", fontsize=9)
    axes[0].set_ylabel("P(K | data)")
    return _savefig(fig, path)


def plot_pareto_k(loo_tables: Mapping[str, pd.DataFrame], task: str, path: Path) -> str:
    """Per model, the Pareto k of each point of ``task`` (exact refits marked), against the threshold."""
    from binoval.loo.psis import k_threshold, task_table
    from binoval.plotting import panel_grid

    tables = {m: task_table(t, task) for m, t in loo_tables.items()}
    models = [m for m, t in tables.items() if len(t) and int(t["total_draws"].iloc[0]) > 0]
    fig, axes = panel_grid(max(1, len(models)), columns=3, gaps=(0.45, 0.8))
    for ax, model_id in zip(axes, models):
        t = tables[model_id]
        threshold = k_threshold(int(t["total_draws"].iloc[0]))
        k = np.where(np.isfinite(t["pareto_k"]), t["pareto_k"], np.nan)
        exact = (t["loo_method"] != "psis").to_numpy()
        colors = np.where(k > threshold, "tab:red", "tab:blue")
        x = np.arange(len(t))
        ax.scatter(x[~exact], k[~exact], c=colors[~exact], s=18)
        ax.scatter(x[exact], k[exact], facecolors="none", edgecolors="tab:green", s=40, label="refitted exactly")
        ax.axhline(threshold, color="tab:red", linestyle="--", linewidth=1)
        ax.set_title(model_id, fontsize=9)
        ax.set_xlabel("point index", fontsize=8)
    if len(models) > 1:  # one k scale across the panels, as the threshold lines are compared between models
        low, high = zip(*(ax.get_ylim() for ax in axes[: len(models)]))
        for ax in axes[: len(models)]:
            ax.set_ylim(min(low), max(high))
    if not models:
        axes[0].set_visible(False)
    axes[0].set_ylabel(f"Pareto k ({task})")
    return _savefig(fig, path)


def plot_shrinkage(tables: Mapping[str, pd.DataFrame], path: Path) -> str:
    """One panel per model: each group's posterior mean rate (94% HDI) against its observed proportion, marker
    size ~ n, on the same axes in every panel so the models' shrinkage compares at a glance.

    ``tables``: per model id, its ``binoval.verdict.readout.shrinkage_table``. One figure with fixed margins
    (``panel_grid``), not a figure per model trimmed to a tight bounding box: the report job drew each figure
    twice, a fifth of its run time.
    """
    from binoval.plotting import panel_grid

    models = list(tables)
    frames = list(tables.values())
    lo = min(min(t["observed"].min(), t["hdi_low"].min()) for t in frames)
    hi = max(max(t["observed"].max(), t["hdi_high"].max()) for t in frames)
    pad = 0.04 * (hi - lo) or 0.01
    largest_n = max(t["n"].max() for t in frames)
    fig, axes = panel_grid(len(models), columns=3, gaps=(0.45, 0.8), panel=(3.6, 3.2))
    for ax, model_id, table in zip(axes, models, frames):
        ax.vlines(table["observed"], table["hdi_low"], table["hdi_high"], color="lightgrey")
        ax.scatter(table["observed"], table["posterior_mean"], s=10 + 120 * table["n"] / largest_n, alpha=0.7)
        ax.plot([lo, hi], [lo, hi], color="grey", linestyle=":")
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_title(f"{model_id}", fontsize=9)
        ax.set_xlabel("observed proportion r/n", fontsize=8)
    axes[0].set_ylabel("posterior mean rate (94% HDI)", fontsize=8)
    fig.suptitle("shrinkage: posterior mean against observed proportion (marker size ~ n)", fontsize=9)
    return _savefig(fig, path)


#: Height in inches of one model's panel in the membership figure, and the tick labels' font size.
MEMBERSHIP_PANEL_HEIGHT, MEMBERSHIP_LABEL_SIZE = 2.6, 7


def plot_membership(members: Mapping[str, pd.DataFrame], path: Path) -> str:
    """One panel per mixture model, stacked: each group's membership probabilities, groups in the same order
    (by observed rate) in every panel; one labelled bar per group while few (``labelled``).

    ``members``: per model id, its ``binoval.verdict.readout.membership`` table. Margins are sized from the
    labels before drawing (``text_width``) instead of trimming the figure with a second drawing.
    """
    from binoval.plotting import GRID_MARGINS, panel_grid, text_width
    from binoval.predictive.plots import labelled

    models = list(members)
    first = members[models[0]]
    groups = len(first)
    order = (first["r"] / first["n"]).argsort().to_numpy()
    few = labelled(groups)
    names = first["group"].to_numpy()[order]
    clusters = max(sum(c.startswith("p_cluster_") for c in m.columns) for m in members.values())
    margins = {
        **GRID_MARGINS,
        "right": 0.25 + text_width([f"cluster {clusters}"], MEMBERSHIP_LABEL_SIZE) + 0.45,
        "bottom": 0.35 + text_width(names, MEMBERSHIP_LABEL_SIZE) if few else GRID_MARGINS["bottom"],
    }
    width = max(5.0, 0.25 * groups) if few else 10.0
    fig, axes = panel_grid(
        len(models), columns=1, gaps=(0.45, 0.45), panel=(width, MEMBERSHIP_PANEL_HEIGHT), margins=margins
    )
    x = np.arange(groups)
    bottom_panel = axes[len(models) - 1]
    for ax, model_id in zip(axes, models):
        member = members[model_id]
        bottom = np.zeros(groups)
        for c in [c for c in member.columns if c.startswith("p_cluster_")]:
            values = member[c].to_numpy()[order]
            label = c.replace("p_cluster_", "cluster ")
            ax.bar(x, values, bottom=bottom, width=0.8 if few else 1.0, lw=0, label=label)
            bottom += values
        ax.set_xlim(-0.5, groups - 0.5)
        ax.set_ylim(0, 1)
        ax.set_ylabel("P(membership)", fontsize=8)
        ax.set_title(model_id, fontsize=9, loc="left")
        ax.legend(fontsize=MEMBERSHIP_LABEL_SIZE, loc="upper left", bbox_to_anchor=(1, 1))
        if few:
            ax.set_xticks(x, names if ax is bottom_panel else [], rotation=90, fontsize=MEMBERSHIP_LABEL_SIZE)
        elif ax is not bottom_panel:
            ax.set_xticks([])
    if not few:
        bottom_panel.set_xlabel(f"{groups} groups ordered by observed rate")
    fig.suptitle("membership: each group's cluster probabilities (groups by observed rate)", fontsize=9)
    return _savefig(fig, path)


def _image(path: str, md_dir: Path, alt: str) -> str:
    return f"![{alt}]({os.path.relpath(path, md_dir)})"


def markdown_verdict(verdict: Mapping, recommendation_reason: str) -> list[str]:
    """The top of report.md: overall verdict, recommendation and why, the compact table, each model's findings."""
    out = [
        "## Verdict",
        "",
        (
            f"Overall: **{verdict['overall']}**. Recommended model: **{verdict['recommended_model'] or 'none'}** — "
            f"{recommendation_reason}."
        ),
        "",
        "A model is accepted when none of its stages FAILs.",
        "",
        _md_table(verdict_frame(verdict)),
        "",
        "Findings per model (FAIL, then WARN; every finding with its plots is under Stages):",
        "",
    ]
    for model_id, model in verdict["models"].items():
        findings = model_findings(model)
        out.append(f"- **{model_id}**: {model['verdict']}" + ("" if findings else ", every stage passes"))
        out += [f"  - {status} {finding}" for status, finding in findings]
    return out + [""]


def markdown_calibration(calibration: Mapping[str, Mapping], false_reject_rate: float) -> list[str]:
    """The verdict calibration section: per model, how often the predictive checks FAIL data the model generated.

    ``calibration``: per model id, ``prior`` (``binoval.verdict.calibration.prior_self_rejection``) and ``sbc``
    (``sbc_predictive_rejection``, or None when the run has no SBC fits).
    """

    def share(k: int, n: int) -> str:
        return f"{k}/{n} ({k / n:.1%})" if n else "n/a"

    rows = []
    for model_id, c in calibration.items():
        prior, sbc = c["prior"], c.get("sbc")
        rows.append(
            {
                "model": model_id,
                "prior predictive, own prior draws": share(prior["rejected"], prior["datasets"]),
                "prior predictive, SBC datasets": share(sbc["prior_predictive"], sbc["simulations"]) if sbc else "n/a",
                "posterior predictive, SBC fits": share(sbc["ppc"], sbc["simulations"]) if sbc else "n/a",
                "either (false-reject rate)": share(sbc["either"], sbc["simulations"]) if sbc else "n/a",
                "95% interval": f"[{sbc['low']:.1%}, {sbc['high']:.1%}]" if sbc else "n/a",
            }
        )
    return [
        "## Verdict calibration",
        "",
        (
            "How often the verdict rejects a model that is right. The predictive checks are built so that together "
            f"they reject a correctly specified model at most {false_reject_rate:.0%} of the time "
            "(`verdict.false_reject_rate`; each spends half as the family-wise level of its statistics). "
            "Measured here on this run's own simulations: every prior predictive draw judged against the others "
            "(exact), and every SBC dataset (a draw from the model's prior, fitted by the SBC stage) judged by both "
            "checks' rules, the posterior predictive one on its SBC fit. Rates across all default models and "
            "datasets like hospital12, and the power against wrong models, are in README.md (How often the verdict "
            "is wrong: `benchmarks/verdict_calibration.py`)."
        ),
        "",
        _md_table(pd.DataFrame(rows)),
        "",
    ]


def markdown_stage(stage: str, verdict: Mapping, plots: Mapping[str, Sequence[str]], md_dir: Path) -> list[str]:
    """One stage's section of report.md: per model, its status, every finding and the plots the stage drew."""
    out = [f"### {stage_title(stage)}", ""]
    for model_id, model in verdict["models"].items():
        if stage not in model["stages"]:
            continue
        result = model["stages"][stage]
        out += [f"#### {model_id}: {result['status']}", ""]
        out += [f"- {r}" for r in result["reasons"]] + [""] if result["reasons"] else []
        out += [line for path in plots.get(model_id, []) for line in (_image(path, md_dir, f"{stage} {model_id}"), "")]
    return out


#: Key prefix of a stage plot among the report rule's named inputs (``<stage>__<model_id>__plot<i>``).
PLOT_KEY = "plot"


def stage_plot_paths(inputs: Mapping[str, str]) -> dict[str, dict[str, list[str]]]:
    """``{stage: {model_id: [png paths]}}`` from the report rule's named inputs, each model's plots in drawing order.

    The inputs are named as stage tables (``binoval.verdict.verdict.table_input_name``) with key ``plot<i>``;
    other inputs are skipped.
    """
    out: dict[str, dict[str, list[str]]] = {}
    for stage, per_model in stage_table_paths(inputs).items():
        for model_id, keys in per_model.items():
            plots = {int(key[len(PLOT_KEY) :]): path for key, path in keys.items() if key.startswith(PLOT_KEY)}
            if plots:
                out.setdefault(stage, {})[model_id] = [plots[i] for i in sorted(plots)]
    return out


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
    calibration: Mapping[str, Mapping] | None = None,
    false_reject_rate: float | None = None,
) -> str:
    """The report's markdown; writes its plots into ``plot_dir``.

    ``readouts``: per model id, the read-out figures (keys ``shrinkage``,
    ``icc``, ``new_group``, ``pairs``, ``clusters``, ``membership``,
    ``confusion``, ``accuracy``; any may be missing).
    """
    md_dir = Path(md_path).parent
    plot_dir = Path(plot_dir)
    out = [f"# binoval report: run `{verdict['run']}` (dataset `{verdict['dataset']}`)", ""]
    out += markdown_verdict(verdict, recommendation_reason)
    if calibration:
        from binoval.defaults import VERDICT

        out += markdown_calibration(calibration, false_reject_rate or VERDICT["false_reject_rate"])

    from binoval.defaults import COMPARE, with_defaults

    driving_task = with_defaults(COMPARE, tolerance)["task"]
    out += ["## Model comparison", ""]
    out += [
        f"Models are ranked per prediction task; `{driving_task}` (config `compare.task`) drives the recommendation. "
        "new_groups: predicting a group the fit has not seen; same_groups: predicting new trials of the groups at "
        "hand (config/README.md, section loo). The number of clusters is chosen on evidence about K (below).",
        "",
    ]
    columns = ["rank", "model_id", "elpd", "se", "elpd_diff", "dse", "p_worse", "diag_diff", "weight", "method"]
    for task in dict.fromkeys(comparison["task"]):
        for ic in ("loo", "waic"):
            marker = " (drives the recommendation)" if task == driving_task and ic == "loo" else ""
            part = comparison[(comparison["task"] == task) & (comparison["criterion"] == ic)].sort_values("rank")
            table = part[columns].rename(columns={"elpd": f"elpd_{ic}", "weight": "stacking weight"})
            out += [f"### {task}: {ic.upper()}{marker}", "", _md_table(table, ".2f"), ""]
    out += [tie_rule(tolerance), ""]
    mixtures = comparison[
        (comparison["criterion"] == "loo") & (comparison["mixture"] != "") & (comparison["task"] == driving_task)
    ]
    if len(mixtures):
        out += ["### Mixture: are there clusters, and how many?", ""]
        for base, part in mixtures.groupby("mixture"):
            part = part.sort_values("K")
            chosen = part[part["k_selected"]]
            if chosen.empty:
                out += [
                    f"- `{base}`: {part['k_reason'].iloc[0] or 'no evidence about K (no SMC marginal likelihoods)'}.",
                    "",
                ]
                continue
            out += [
                f"- `{base}`: P(K >= 2 | data) = **{part['p_clusters'].iloc[0]:.2f}**; chosen **K = {chosen['K'].iloc[0]}**. "
                f"{chosen['k_reason'].iloc[0]}.",
                "",
            ]
            table = part[["K", "log_ml", "log_ml_se", "p_k", "elpd", "elpd_diff", "p_worse"]].rename(
                columns={
                    "log_ml": "log p(data \\| K)",
                    "log_ml_se": "MC se",
                    "p_k": "P(K \\| data)",
                    "elpd": "elpd_loo",
                }
            )
            out += [_md_table(table, ".2f"), ""]
        drawn = plot_k_posterior(mixtures, report_plot_path(plot_dir, "k_posterior"))
        out += [_image(drawn, md_dir, "P(K | data) per mixture"), ""]
    if len(loo_tables) >= 1:
        drawn = plot_comparison(comparison, report_plot_path(plot_dir, "comparison"))
        out += [_image(drawn, md_dir, "model comparison"), ""]

    out += ["## Stages", ""]
    for stage in _judged_stages(verdict):
        out += markdown_stage(stage, verdict, (stage_plots or {}).get(stage, {}), md_dir)
        if stage == "loo" and loo_tables:
            drawn = plot_pareto_k(loo_tables, driving_task, report_plot_path(plot_dir, "pareto_k"))
            out += [_image(drawn, md_dir, f"Pareto k per point ({driving_task})"), ""]
            out += [
                "Dashed line: the Pareto k threshold min(1 - 1/log10 S, 0.7); red points are above it, green circles "
                "were refitted exactly.",
                "",
            ]

    out += ["## Population read-out", ""]
    shrinkage = {model_id: r["shrinkage"] for model_id, r in readouts.items() if "shrinkage" in r}
    if shrinkage:
        drawn = plot_shrinkage(shrinkage, report_plot_path(plot_dir, "shrinkage"))
        out += [_image(drawn, md_dir, "shrinkage per model"), ""]
    for model_id, r in readouts.items():
        if "shrinkage" not in r:
            continue
        out += [f"### {model_id}", ""]
        if "icc" in r:
            icc = r["icc"]
            out += [
                f"ICC (latent scale, tau² / (tau² + π²/3)): **{icc['mean']:.3f}** (94% HDI {icc['hdi_low']:.3f} – {icc['hdi_high']:.3f}).",
                "",
            ]
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

    mixture_models = [m for m, r in readouts.items() if "clusters" in r]
    if mixture_models:
        out += ["## Mixture read-out", ""]
        members = {model_id: readouts[model_id]["membership"] for model_id in mixture_models}
        drawn = plot_membership(members, report_plot_path(plot_dir, "membership"))
        out += [_image(drawn, md_dir, "membership per mixture model"), ""]
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
    return "\n".join(out) + "\n"
