"""Predictive accuracy: PSIS-LOO and exact refits (``psis``), WAIC (``waic``), the comparison of
models and the choice of K (``compare``) and the stage's status (``check``)."""
