"""Prior and posterior predictive checks: the shared test statistics (``statistics``), tail
probabilities, intervals and PIT (``primitives``), the two stages (``prior``, ``posterior``), their
plots (``plots``) and their statuses (``check``)."""
