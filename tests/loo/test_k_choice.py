"""The K choice on evidence: SMC marginal likelihoods, P(K | data), the posterior median of K."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import evidence_of
from scipy import special

from binoval.data.synthetic import AGENTS25_DESIGN, simulate_clustered_counts
from binoval.loo.k_choice import choose_k, evidence_table, k_choice_table, k_posterior, k_prior
from binoval.models import GroupedCounts, expand_models


def test_posterior_of_k_gives_one_population_and_clusters_half_the_prior_each():
    table = k_posterior(evidence_of("mix", {1: [-44.4, -44.4], 2: [-45.8, -45.7], 3: [-46.9, -47.0]}))
    log_ml = np.array(
        [-44.4, special.logsumexp([-45.8, -45.7]) - np.log(2), special.logsumexp([-46.9, -47.0]) - np.log(2)]
    )
    np.testing.assert_allclose(table["log_ml"], log_ml)
    log_joint = log_ml + np.log([0.5, 0.25, 0.25])
    np.testing.assert_allclose(table["p_k"], np.exp(log_joint - special.logsumexp(log_joint)))
    assert table["p_clusters"].iloc[0] == pytest.approx(1 - table["p_k"].iloc[0])
    assert table["log_ml_se"].iloc[1] == pytest.approx(np.std([-45.8, -45.7], ddof=1) / np.sqrt(2))
    # equal evidence for every K: the data say nothing, and neither does the posterior
    flat = k_posterior(evidence_of("mix", {1: [-9.0, -9.0], 2: [-9.0, -9.0], 3: [-9.0, -9.0], 4: [-9.0, -9.0]}))
    assert flat["p_clusters"].iloc[0] == pytest.approx(0.5)


def test_prior_without_k1_is_uniform():
    np.testing.assert_allclose(k_prior(np.array([1, 2, 3, 4])), [0.5, 1 / 6, 1 / 6, 1 / 6])
    np.testing.assert_allclose(k_prior(np.array([2, 3])), [0.5, 0.5])
    np.testing.assert_allclose(k_prior(np.array([1])), [1.0])


@pytest.mark.parametrize(
    "log_ml, chosen, fragment",
    [
        ({1: -44.39, 2: -45.78, 3: -46.93, 4: -47.89}, 1, "K=1: no evidence of clusters"),  # issue 14, hospital12
        ({1: -148.45, 2: -147.48, 3: -146.93, 4: -146.58}, 3, "K=3: clusters are likely"),  # 30 agents, 3 clusters
        ({1: -132.59, 2: -132.52, 3: -132.54}, 1, "Bayes factor of clusters against one population 1.1 < 3"),
        ({1: -20.0, 2: -12.0, 3: -12.0}, 2, "P(K >= 2 | data) = 1.00"),  # a tie between two K's keeps the smaller
        ({2: -12.0, 3: -10.0}, 3, "K=3 is the posterior median of K"),  # no K = 1: the question is not asked
    ],
)
def test_the_chosen_k(log_ml, chosen, fragment):
    posterior = k_posterior(evidence_of("mix", {K: [v, v] for K, v in log_ml.items()}))
    k, reason = choose_k(posterior)
    assert k == chosen, reason
    assert fragment in reason, reason


def test_a_stricter_bayes_factor_needs_more_evidence():
    posterior = k_posterior(
        evidence_of("mix", {1: [-148.45] * 2, 2: [-147.48] * 2, 3: [-146.93] * 2, 4: [-146.58] * 2})
    )
    assert choose_k(posterior, clusters_bayes_factor=3)[0] == 3  # Bayes factor 4.6
    assert choose_k(posterior, clusters_bayes_factor=10)[0] == 1


def test_k_choice_table_marks_one_k_per_mixture():
    evidence = pd.concat(
        [evidence_of("a", {1: [-5.0, -5.0], 2: [-9.0, -9.0]}), evidence_of("b", {1: [-9.0, -9.0], 2: [-5.0, -5.0]})]
    )
    table = k_choice_table(evidence).set_index("model_id")
    assert table["selected"].to_dict() == {"a_k1": True, "a_k2": False, "b_k1": False, "b_k2": True}


#: Fresh designs for the K choice: the three clusters of agents25, and one Beta population of the same spread of n.
CLUSTERED, ONE_POPULATION = AGENTS25_DESIGN, ((4.0, 12.0, 25),)


def _simulated(seed: int, clustered: bool) -> GroupedCounts:
    frame = simulate_clustered_counts(CLUSTERED if clustered else ONE_POPULATION, 100, seed)
    return GroupedCounts.from_frame(frame[["group", "n", "r"]])


def _choose(data: GroupedCounts, seed: int) -> tuple[int, float]:
    from binoval.loo.k_choice import smc_log_marginal_likelihood

    specs = expand_models({"m": {"family": "bb_mixture", "K": [1, 2, 3, 4]}})
    evidence = pd.concat(
        [
            evidence_table(spec, "m", spec.options["K"], smc_log_marginal_likelihood(spec, data, 1000, 2, seed), 1000)
            for spec in specs.values()
        ]
    )
    posterior = k_posterior(evidence)
    return choose_k(posterior)[0], float(posterior["p_clusters"].iloc[0])


@pytest.mark.slow
@pytest.mark.parametrize("dataset, clusters", [("agents25", True), ("hospital12", False)])
def test_bundled_data_with_and_without_clusters(dataset, clusters):
    from binoval.data.grouped import load_dataset

    k, p_clusters = _choose(GroupedCounts.from_frame(load_dataset(dataset)), seed=1)
    if clusters:
        assert k >= 2 and p_clusters > 0.5, (k, p_clusters)
    else:
        assert k == 1 and p_clusters < 0.5, (k, p_clusters)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [101, 202, 303])
@pytest.mark.parametrize("clustered", [True, False])
def test_fresh_simulations_with_and_without_clusters(seed, clustered):
    """Datasets nobody looked at: clusters are found where they were simulated and not claimed where they were not
    (benchmarks/k_choice_accuracy.py measures how often over more datasets)."""
    k, p_clusters = _choose(_simulated(seed, clustered), seed)
    assert (p_clusters > 0.5) == clustered, (k, p_clusters)
    assert (k >= 2) == clustered, (k, p_clusters)


def test_a_k_without_evidence_leaves_no_k_chosen():
    evidence = evidence_of("mix", {1: [-10.0, -10.0], 2: [np.nan, np.nan]})
    table = k_choice_table(evidence)
    assert not table["selected"].any() and table["p_k"].isna().all()
    assert "no marginal likelihood for K = 2" in table["reason"].iloc[0]
