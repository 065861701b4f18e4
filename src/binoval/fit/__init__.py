"""The fit stage: a model compiled once and sampled (``sampler``), the stage that fits the observed
data and completes the fit's data tree (``stage``), MCMC diagnostics as tables (``diagnostics``) and
the stage's status (``check``)."""
