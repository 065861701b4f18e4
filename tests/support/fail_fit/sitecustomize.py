"""Test-only fault injection: make the main fit of one model raise, in every process of a workflow run.

Put this folder on PYTHONPATH and set BINOVAL_TEST_FAIL_FIT=<model_id>; Python imports
``sitecustomize`` at start-up, so Snakemake's script jobs pick the patch up too.
"""

import os

_target = os.environ.get("BINOVAL_TEST_FAIL_FIT")
if _target:
    import binoval.fit.stage as _fitting

    _original_fit_model = _fitting.fit_model
    _RealSampler = _fitting.CompiledSampler

    class _FailingSampler(_RealSampler):
        def fit(self, data, seed, settings=None):
            raise RuntimeError("injected initialisation failure (test)")

    def _fit_model(spec, *args, **kwargs):
        _fitting.CompiledSampler = _FailingSampler if spec.model_id == _target else _RealSampler
        return _original_fit_model(spec, *args, **kwargs)

    _fitting.fit_model = _fit_model
