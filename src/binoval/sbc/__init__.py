"""Simulation-based calibration (SBC) at scale.

- ``simulate``: prior-predictive datasets from the model itself (or from
  ``sbc.simulate_priors``), test quantities, the compiled log-likelihood.
- ``shard``: one shard of simulations, compiled once, every fit recorded.
- ``ranks``: thinning by ESS and ranks with random tie-breaking.
- ``uniformity``: ECDF-difference test with simultaneous bands, chi-square
  test, Holm adjustment.
- ``summary``: per-quantity tests, coverage, z-scores, contraction.
- ``plots``: ECDF-difference and rank-histogram plots.
The stage status is ``binoval.sbc.check.sbc_status``; the defaults of the
``sbc`` config section are ``binoval.defaults.SBC``.
"""
