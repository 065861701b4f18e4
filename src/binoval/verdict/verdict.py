"""The verdict: every model's stages judged, models accepted or rejected, one recommended.

Stages plug in through a registry, ``STAGE_CHECKS``: stage -> the checks module
providing ``<stage>_status(tables, thresholds)`` and ``TABLE_SCHEMAS``; the workflow
hands this module, per model, the stage's stored tables (keys as the status
function's docstring names them) and ``thresholds.<stage>`` from the config.

* A model is ACCEPTED when none of its stages FAILs (WARN does not reject).
* ``recommended_model``: on the prediction task ``compare.task`` (``binoval.loo.tasks``),
  the best accepted model by elpd_loo, then the simplicity rule: every accepted
  model tied with it (``binoval.loo.compare.is_tied``: difference below
  ``elpd_tolerance`` or ``p_worse`` below ``p_worse_max``, config ``compare``)
  is a candidate, and the simplest candidate wins.
  Simplicity is the number of population-level parameters, which each family
  states (``Family.population_parameters``): pooled 1, hier_logit 2,
  beta_binomial 2, logit_t 3, bb_mixture 3K - 1, glmm its intercept, one per fixed-effect
  term and per varying term its sds (and correlations), unpooled one per group;
  ``complexity`` maps each model id to it. Among equally simple candidates
  the higher elpd_loo. Models without the task (glmm has no new-groups values
  unless K-fold gives them) are not candidates.
* ``overall`` is ACCEPT when at least one model is accepted.

``verdict.json`` holds exactly the documented fields (README.md, "The end of the DAG") and is
validated with ``VERDICT_SCHEMA`` (JSON Schema) before it is written.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from binoval.defaults import COMPARE, with_defaults
from binoval.loo.compare import is_tied, paired_difference, task_tables, tie_rule
from binoval.verdict.status import FAIL, StageResult

#: Stages in the order they appear in the verdict and the report.
STAGE_ORDER = ("prior_predictive", "sbc", "fit", "ppc", "posterior_sbc", "sensitivity", "loo")

_STAGE_RESULT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["status", "reasons"],
    "properties": {
        "status": {"enum": ["PASS", "WARN", "FAIL"]},
        "reasons": {"type": "array", "items": {"type": "string"}},
    },
}
VERDICT_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["run", "dataset", "overall", "recommended_model", "models"],
    "properties": {
        "run": {"type": "string"},
        "dataset": {"type": "string"},
        "overall": {"enum": ["ACCEPT", "REJECT"]},
        "recommended_model": {"type": ["string", "null"]},
        "models": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["verdict", "stages"],
                "properties": {
                    "verdict": {"enum": ["ACCEPT", "REJECT"]},
                    "stages": {
                        "type": "object",
                        "minProperties": 1,
                        "propertyNames": {"enum": list(STAGE_ORDER)},
                        "additionalProperties": _STAGE_RESULT,
                    },
                },
            },
        },
    },
}


#: stage -> module with ``<stage>_status`` and ``TABLE_SCHEMAS`` (both predictive stages share one module)
STAGE_CHECKS = {
    "prior_predictive": "binoval.predictive.check",
    "sbc": "binoval.sbc.check",
    "fit": "binoval.fit.check",
    "ppc": "binoval.predictive.check",
    "posterior_sbc": "binoval.sbc.check",
    "sensitivity": "binoval.sensitivity.check",
    "loo": "binoval.loo.check",
}


def status_function(stage: str) -> Callable[[Mapping[str, pd.DataFrame], Mapping], StageResult]:
    """The stage's ``<stage>_status`` from its module in ``STAGE_CHECKS``."""
    return getattr(importlib.import_module(STAGE_CHECKS[stage]), f"{stage}_status")


#: Joins stage, model id and table key in the verdict rule's input names: ``fit__hier_logit__parameters``.
#: Stage names and table keys never contain it, so a name splits back unambiguously whatever the model id.
INPUT_SEPARATOR = "__"


def table_input_name(stage: str, model_id: str, key: str) -> str:
    """The verdict rule's input name of one stage table of one model."""
    return INPUT_SEPARATOR.join((stage, model_id, key))


def stage_table_paths(inputs: Mapping[str, str]) -> dict[str, dict[str, dict[str, str]]]:
    """``{stage: {model_id: {table key: path}}}`` from the named inputs made by ``table_input_name``.

    Other names (e.g. ``data``) are skipped; stages come in ``STAGE_ORDER``, models in input order.
    """
    out: dict[str, dict[str, dict[str, str]]] = {}
    for name, path in inputs.items():
        stage, _, rest = name.partition(INPUT_SEPARATOR)
        model_id, _, key = rest.rpartition(INPUT_SEPARATOR)
        if stage in STAGE_ORDER and model_id and key:
            out.setdefault(stage, {}).setdefault(model_id, {})[key] = str(path)
    return {stage: out[stage] for stage in STAGE_ORDER if stage in out}


def report_path(verdict_path: str) -> str:
    """Where the report of a run is: ``report.md`` beside its ``verdict.json`` (both in results/<run>/)."""
    return str(Path(verdict_path).with_name("report.md"))


def read_stage_tables(stage: str, paths: Mapping[str, str]) -> dict[str, pd.DataFrame]:
    """Read a stage's tables, validated with the schemas its checks module lists in ``TABLE_SCHEMAS``."""
    from binoval.schemas import read_table

    schemas = getattr(importlib.import_module(STAGE_CHECKS[stage]), "TABLE_SCHEMAS", {})
    return {
        key: read_table(path, schemas[key]) if key in schemas else pd.read_parquet(path) for key, path in paths.items()
    }


def judge_stage(stage: str, tables: Mapping[str, pd.DataFrame], thresholds: Mapping | None) -> StageResult:
    """A stage's status; a status function that raises makes the stage FAIL with the error as reason."""
    try:
        return status_function(stage)(tables, thresholds or {})
    except Exception as err:  # a broken table or check must not pass silently
        result = StageResult()
        result.fail(f"the {stage} check could not be evaluated: {type(err).__name__}: {err}")
        return result


def judge_model(
    stage_tables: Mapping[str, Mapping[str, pd.DataFrame]], thresholds: Mapping[str, Mapping]
) -> dict[str, StageResult]:
    """Every stage of one model, in ``STAGE_ORDER`` (stages without tables are left out)."""
    ordered = sorted(stage_tables, key=lambda s: STAGE_ORDER.index(s) if s in STAGE_ORDER else len(STAGE_ORDER))
    return {stage: judge_stage(stage, stage_tables[stage], (thresholds or {}).get(stage)) for stage in ordered}


@dataclass
class Recommendation:
    model_id: str | None
    reason: str


def recommend(
    accepted: list[str],
    loo_tables: Mapping[str, pd.DataFrame],
    complexity: Mapping[str, int],
    tolerance: Mapping[str, float] | None = None,
) -> Recommendation:
    """The best accepted model on ``compare.task`` with the simplicity rule (see the module doc)."""
    t = with_defaults(COMPARE, tolerance)
    task = t["task"]
    scored = task_tables({m: loo_tables[m] for m in accepted if m in loo_tables}, task)
    if not scored:
        if not accepted:
            return Recommendation(None, "no model was accepted")
        return Recommendation(None, f"no accepted model has LOO results on the {task} task")
    elpd = {m: float(rows["elpd_loo"].iloc[0]) for m, rows in scored.items()}
    best = max(elpd, key=elpd.get)
    candidates = {m: paired_difference(scored[best], rows) for m, rows in scored.items() if m != best}
    candidates = {m: d for m, d in candidates.items() if is_tied(d, t)}
    chosen = min([best, *candidates], key=lambda m: (complexity[m], -elpd[m]))
    if chosen == best:
        others = sorted(candidates)
        extra = f"; tied with it but not simpler: {', '.join(others)}" if others else "; no other is tied with it"
        reason = (
            f"{best} has the highest elpd_loo on the {task} task ({elpd[best]:.2f}) among accepted models{extra}. "
            f"{tie_rule(t)} Among tied models the simplest wins"
        )
    else:
        d = candidates[chosen]
        reason = (
            f"on the {task} task, {chosen} is the simplest accepted model ({complexity[chosen]} population parameters "
            f"vs {complexity[best]} for {best}) tied with the best by elpd_loo: difference {d.diff:.2f} "
            f"(se {d.se:.2f}, p_worse {d.p_worse:.2f}). {tie_rule(t)}"
        )
    return Recommendation(chosen, reason)


def build_verdict(
    run: str,
    dataset: str,
    stage_results: Mapping[str, Mapping[str, StageResult]],
    loo_tables: Mapping[str, pd.DataFrame],
    complexity: Mapping[str, int],
    tolerance: Mapping[str, float] | None = None,
) -> tuple[dict, Recommendation]:
    """The verdict document (``VERDICT_SCHEMA`` fields, validated) and the recommendation with its reason."""
    models = {}
    accepted = []
    for model_id, stages in stage_results.items():
        ok = not any(result.status == FAIL for result in stages.values())
        if ok:
            accepted.append(model_id)
        models[model_id] = {
            "verdict": "ACCEPT" if ok else "REJECT",
            "stages": {s: r.to_dict() for s, r in stages.items()},
        }
    recommendation = recommend(accepted, loo_tables, complexity, tolerance)
    verdict = {
        "run": run,
        "dataset": dataset,
        "overall": "ACCEPT" if accepted else "REJECT",
        "recommended_model": recommendation.model_id,
        "models": models,
    }
    validate_verdict(verdict)
    return verdict, recommendation


def validate_verdict(verdict: Mapping) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``verdict`` has exactly the documented shape."""
    import jsonschema

    jsonschema.validate(verdict, VERDICT_SCHEMA)
    if verdict["overall"] == "ACCEPT" and verdict["recommended_model"] not in verdict["models"]:
        raise jsonschema.ValidationError("recommended_model must be one of the models when overall is ACCEPT")
    accepted = [m for m, v in verdict["models"].items() if v["verdict"] == "ACCEPT"]
    if (verdict["overall"] == "ACCEPT") != bool(accepted):
        raise jsonschema.ValidationError("overall must be ACCEPT exactly when at least one model is accepted")


def failing_reasons(model: Mapping, status: str = FAIL) -> list[str]:
    """``stage: reason`` for every finding of ``status`` (FAIL unless given) in one model's verdict entry."""
    prefix = f"{status}: "
    out = []
    for stage, result in model["stages"].items():
        out += [f"{stage}: {reason[len(prefix) :]}" for reason in result["reasons"] if reason.startswith(prefix)]
    return out


def summary_text(verdict: Mapping, recommendation_reason: str, report_path: str, width: int = 110) -> str:
    """The short table the terminal shows at the end of a run."""
    models = verdict["models"]
    name_width = max([len("model")] + [len(m) for m in models])
    lines = [
        f"binoval verdict for run {verdict['run']} (dataset {verdict['dataset']}): overall {verdict['overall']}",
        "",
    ]
    lines.append(f"{'model'.ljust(name_width)}  verdict  stages / failing reasons")
    for model_id, model in models.items():
        stages = " ".join(f"{s}={r['status']}" for s, r in model["stages"].items())
        lines.append(f"{model_id.ljust(name_width)}  {model['verdict']:<7}  {stages}")
        for reason in failing_reasons(model):
            text = reason if len(reason) <= width else reason[: width - 3] + "..."
            lines.append(f"{'':{name_width}}           - {text}")
    lines.append("")
    lines.append(f"recommended model: {verdict['recommended_model'] or 'none'} ({recommendation_reason})")
    lines.append(f"report: {report_path}")
    return "\n".join(lines) + "\n"
