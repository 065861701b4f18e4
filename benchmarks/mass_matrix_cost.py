"""What nutpie's diagonal and low-rank mass matrices cost and buy as the number of groups grows.

Non-centred hier_logit fitted at the SBC settings (2 x 500 draws after 300 warm-up, one thread; ``--draws`` and
``--tune`` change them) to datasets drawn from its prior (the SBC case) with the trials of a seeded synthetic
dataset of each ``--groups`` (``binoval.data.synthetic.simulate_logit_normal_counts``, n from 20 to 2000 per group),
once with the diagonal mass matrix and once with the low-rank one at each regularisation ``--gammas`` (nutpie's
``mass_matrix_gamma``; its default is 1e-5, binoval's ``binoval.fit.sampler.LOW_RANK_GAMMA``), switch interval
``--switch-freqs``, update interval ``--update-freqs`` (warm-up draws between two updates of the matrix, nutpie's 20
by default) window growth ``--window-growths`` (nutpie's ``mass_matrix_window_growth``, 1.5 by default) and
eigenvalue cutoff ``--eigval-cutoffs`` (nutpie's ``mass_matrix_eigval_cutoff``, 2). Printed per size and mass
matrix: seconds per fit, the median and 10% quantile of the smallest bulk ESS over mu, tau and the group rates, the
share of fits below the 100 effective draws SBC asks for (``sbc.min_ranks``, which would be refitted longer),
divergences, leapfrog steps per kept draw and the fit's wall time per gradient evaluation (warm-up included: the
gradient plus what the mass matrix costs per step).

    PYTHONPATH=src python benchmarks/mass_matrix_cost.py --groups 12 1000 --datasets 20 8
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import dataclass

import numpy as np

from binoval.data.synthetic import simulate_logit_normal_counts
from binoval.defaults import SBC
from binoval.fit.nutpie_cache import compile_nutpie_model
from binoval.fit.sampler import LOW_RANK_GAMMA, nutpie_sample, with_data
from binoval.models import FAMILIES, GroupedCounts, ModelSpec, build_model
from binoval.sbc.simulate import simulate

NUTPIE_DEFAULT_GAMMA = 1e-5


@dataclass(frozen=True)
class LowRankSetting:
    """One of nutpie's low-rank settings this benchmark varies: every combination of the values given is fitted."""

    flag: str  # the command-line option, which takes one or more values
    option: str  # nutpie's name of the setting
    label: str  # its name in the printed table
    type: type
    default: list
    help: str


LOW_RANK_SETTINGS = (
    LowRankSetting(
        "--gammas",
        "mass_matrix_gamma",
        "gamma",
        float,
        [NUTPIE_DEFAULT_GAMMA, 1.0, LOW_RANK_GAMMA],
        f"nutpie's mass_matrix_gamma, the regularisation (its default {NUTPIE_DEFAULT_GAMMA:g})",
    ),
    LowRankSetting(
        "--switch-freqs",
        "mass_matrix_switch_freq",
        "switch",
        int,
        [80],
        "nutpie's mass_matrix_switch_freq for the low-rank fits (its default 80)",
    ),
    LowRankSetting(
        "--update-freqs",
        "mass_matrix_update_freq",
        "update",
        int,
        [20],
        "nutpie's mass_matrix_update_freq for the low-rank fits (warm-up draws between updates; its default 20)",
    ),
    LowRankSetting(
        "--window-growths",
        "mass_matrix_window_growth",
        "growth",
        float,
        [1.5],
        "nutpie's mass_matrix_window_growth for the low-rank fits (its default 1.5)",
    ),
    LowRankSetting(
        "--eigval-cutoffs",
        "mass_matrix_eigval_cutoff",
        "cutoff",
        float,
        [2.0],  # nutpie 0.16's settings hold 2; its docstring says 100
        "nutpie's mass_matrix_eigval_cutoff: eigenvalues between 1/c and c are left out of the low-rank part (2)",
    ),
)


def smallest_ess(trace) -> float:
    import arviz_stats

    ess = arviz_stats.ess(trace, var_names=["mu", "tau", "p"])
    return min(float(ess[name].min()) for name in ess.data_vars)


def gradient_evaluations(trace) -> tuple[int, int]:
    """Leapfrog steps (one gradient evaluation each) of a fit: in its kept draws, and in all of it with warm-up."""
    kept = int(trace.sample_stats["n_steps"].sum())
    warmup = int(trace.warmup_sample_stats["n_steps"].sum()) if "warmup_sample_stats" in trace.children else 0
    return kept, kept + warmup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[12, 1000])
    parser.add_argument("--datasets", type=int, nargs="+", default=[20, 8], help="prior datasets per size")
    parser.add_argument("--data-seed", type=int, default=20261123)
    for setting in LOW_RANK_SETTINGS:
        parser.add_argument(setting.flag, type=setting.type, nargs="+", default=setting.default, help=setting.help)
    parser.add_argument(
        "--target-accept",
        type=float,
        default=None,
        help="target acceptance (default: nutpie's, 0.8; binoval fits 0.95)",
    )
    parser.add_argument("--no-diag", action="store_true", help="skip the diagonal mass matrix")
    parser.add_argument("--draws", type=int, default=500, help="draws per chain (SBC's 500; the fit's 1000)")
    parser.add_argument("--tune", type=int, default=300, help="warm-up draws per chain (SBC's 300; the fit's 1000)")
    args = parser.parse_args()

    spec = ModelSpec(
        "hier_logit", "hier_logit", FAMILIES["hier_logit"].default_priors, {"parameterization": "noncentered"}
    )
    adaptations = [] if args.no_diag else [("diag", {})]
    chosen = [getattr(args, setting.flag[2:].replace("-", "_")) for setting in LOW_RANK_SETTINGS]
    adaptations += [
        ("low_rank", {setting.option: value for setting, value in zip(LOW_RANK_SETTINGS, values, strict=True)})
        for values in itertools.product(*chosen)
    ]
    accept = {} if args.target_accept is None else {"target_accept": args.target_accept}
    print(
        "| groups | datasets | mass matrix | s per fit | smallest ESS: median | 10% | below 100 | divergences "
        "| steps per kept draw | us per gradient evaluation |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for groups, datasets in zip(args.groups, args.datasets, strict=True):
        data = GroupedCounts.from_frame(simulate_logit_normal_counts(groups, args.data_seed))
        model = build_model(spec, data)
        compiled = compile_nutpie_model(model)
        counts = simulate(model, ["r"], datasets, np.random.default_rng(args.data_seed))["r"]
        for adaptation, options in adaptations:
            seconds, ess, divergences, steps, evaluations = [], [], 0, [], []
            for i in range(datasets):
                start = time.perf_counter()
                trace = nutpie_sample(
                    with_data(compiled, data.with_successes(counts[i])),
                    draws=args.draws,
                    tune=args.tune,
                    chains=2,
                    cores=1,
                    seed=100 + i,
                    progress_bar=False,
                    adaptation=adaptation,
                    **options,
                    **accept,
                )
                seconds.append(time.perf_counter() - start)
                ess.append(smallest_ess(trace))
                divergences += int(trace.sample_stats["diverging"].sum())
                kept, total = gradient_evaluations(trace)
                steps.append(kept / (trace.posterior.sizes["chain"] * trace.posterior.sizes["draw"]))
                evaluations.append(total)
            ess = np.array(ess)
            label = adaptation
            if options:
                label += "".join(f", {setting.label} {options[setting.option]:g}" for setting in LOW_RANK_SETTINGS)
            print(
                f"| {groups} | {datasets} | {label} | {np.mean(seconds):.2f} | {np.median(ess):.0f} "
                f"| {np.quantile(ess, 0.1):.0f} | {np.mean(ess < SBC['min_ranks']):.0%} | {divergences} "
                f"| {np.mean(steps):.1f} | {1e6 * np.sum(seconds) / np.sum(evaluations):.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
