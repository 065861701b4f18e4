"""The beta-binomial mixture's log-density and its gradient in one pass: a PyTensor Op with a numba kernel.

    log p(r_i) = log C(n_i, r_i) + log sum_k w_k B(alpha_k + r_i, beta_k + n_i - r_i) / B(alpha_k, beta_k)

PyMC's ``Mixture`` of ``BetaBinomial`` components builds this from elementwise graphs: every gradient
evaluates log C(n, r) and both log-beta functions once per group and component, then differentiates
through a logsumexp. This Op evaluates, per group and component, three log-gamma and three digamma
functions (the component terms that do not depend on the group, once per component), takes log C(n, r)
from the model's ``log_binomial_coefficient`` container, and returns the gradient with respect to
``w``, ``alpha`` and ``beta`` from the same pass. PyTensor's numba backend (nutpie) calls the kernel
directly; the other backends call it through ``perform``.

The value is the same density as PyMC's; ``tests/models/test_mixture_density.py`` compares both,
and the gradient with finite differences.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key
from pytensor.tensor.type import integer_dtypes

#: Below this, digamma steps up by psi(x) = psi(x + 1) - 1 / x before the asymptotic series, whose first
#: omitted term at x = 10 is 691 / (32760 x^12), about 2e-14.
_DIGAMMA_SERIES_FROM = 10.0


@numba.njit(cache=True)
def digamma(x: float) -> float:
    """psi(x) = d log Gamma(x) / dx for x > 0 (nan otherwise), to about 1e-14 absolute."""
    if not x > 0.0 or math.isinf(x):
        return math.inf if x == math.inf else math.nan
    shift = 0.0
    while x < _DIGAMMA_SERIES_FROM:
        shift -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    series = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))))
    return shift + math.log(x) - 0.5 / x - series


@numba.njit(cache=True)
def mixture_logp_and_gradients(r, n, log_coefficient, w, alpha, beta):
    """Per group i: log p(r_i) (shape (G,)) and its derivatives with respect to w_k, alpha_k, beta_k (each (G, K)).

    A group with r outside [0, n], or any w_k < 0, alpha_k <= 0 or beta_k <= 0, has log p = -inf and zero
    derivatives (PyMC's bounds give -inf there too). A group with n = 0 has log p = log C(0, 0) = 0.
    """
    groups, clusters = r.shape[0], w.shape[0]
    logp = np.empty(groups)
    d_w = np.zeros((groups, clusters))
    d_alpha = np.zeros((groups, clusters))
    d_beta = np.zeros((groups, clusters))
    valid = True
    for k in range(clusters):
        if not (w[k] >= 0.0 and alpha[k] > 0.0 and beta[k] > 0.0):
            valid = False
    if not valid:
        logp[:] = -np.inf
        return logp, d_w, d_alpha, d_beta
    log_w = np.empty(clusters)
    log_beta_function = np.empty(clusters)
    psi_alpha = np.empty(clusters)
    psi_beta = np.empty(clusters)
    psi_total = np.empty(clusters)
    for k in range(clusters):
        log_w[k] = math.log(w[k]) if w[k] > 0.0 else -np.inf
        log_beta_function[k] = math.lgamma(alpha[k]) + math.lgamma(beta[k]) - math.lgamma(alpha[k] + beta[k])
        psi_alpha[k] = digamma(alpha[k])
        psi_beta[k] = digamma(beta[k])
        psi_total[k] = digamma(alpha[k] + beta[k])
    component = np.empty(clusters)
    term = np.empty(clusters)
    d_component_alpha = np.empty(clusters)
    d_component_beta = np.empty(clusters)
    for i in range(groups):
        successes, trials = r[i], n[i]
        if successes < 0 or successes > trials:
            logp[i] = -np.inf
            continue
        failures = trials - successes
        largest = -np.inf
        for k in range(clusters):
            a, b = alpha[k] + successes, beta[k] + failures
            total = alpha[k] + beta[k] + trials
            component[k] = math.lgamma(a) + math.lgamma(b) - math.lgamma(total) - log_beta_function[k]
            term[k] = log_w[k] + component[k]
            psi_new_total = digamma(total)
            d_component_alpha[k] = digamma(a) - psi_new_total - psi_alpha[k] + psi_total[k]
            d_component_beta[k] = digamma(b) - psi_new_total - psi_beta[k] + psi_total[k]
            largest = max(largest, term[k])
        if largest == -np.inf:
            logp[i] = -np.inf
            continue
        total_weight = 0.0
        for k in range(clusters):
            total_weight += math.exp(term[k] - largest)
        log_mixture = largest + math.log(total_weight)
        logp[i] = log_coefficient[i] + log_mixture
        for k in range(clusters):
            responsibility = math.exp(term[k] - log_mixture)
            d_w[i, k] = math.exp(component[k] - log_mixture)
            d_alpha[i, k] = responsibility * d_component_alpha[k]
            d_beta[i, k] = responsibility * d_component_beta[k]
    return logp, d_w, d_alpha, d_beta


class BetaBinomialMixtureLogp(Op):
    """(r, n, log C(n, r), w, alpha, beta) -> (log p per group, d/dw, d/dalpha, d/dbeta per group and component).

    Only the first output is a density; the others are its partial derivatives, which ``pullback`` reads so that
    the gradient costs no second pass. Differentiating the derivatives themselves is not supported.
    """

    __props__ = ()
    gufunc_signature = "(g),(g),(g),(k),(k),(k)->(g),(g,k),(g,k),(g,k)"

    def make_node(self, r, n, log_coefficient, w, alpha, beta):
        r, n = pt.as_tensor_variable(r), pt.as_tensor_variable(n)
        log_coefficient, w, alpha, beta = (
            pt.as_tensor_variable(x).astype("float64") for x in (log_coefficient, w, alpha, beta)
        )
        for name, x in {
            "r": r,
            "n": n,
            "log_coefficient": log_coefficient,
            "w": w,
            "alpha": alpha,
            "beta": beta,
        }.items():
            if x.type.ndim != 1:
                raise TypeError(f"BetaBinomialMixtureLogp: {name} must be a vector, got {x.type}")
        if r.type.dtype not in integer_dtypes or n.type.dtype not in integer_dtypes:
            raise TypeError(f"BetaBinomialMixtureLogp: r and n must be integer vectors, got {r.type}, {n.type}")
        outputs = [pt.dvector(), pt.dmatrix(), pt.dmatrix(), pt.dmatrix()]
        return Apply(self, [r, n, log_coefficient, w, alpha, beta], outputs)

    def perform(self, node, inputs, output_storage):
        r, n, log_coefficient, w, alpha, beta = inputs
        results = mixture_logp_and_gradients(
            np.asarray(r, dtype="int64"), np.asarray(n, dtype="int64"), log_coefficient, w, alpha, beta
        )
        for storage, value in zip(output_storage, results, strict=True):
            storage[0] = value

    def infer_shape(self, node, input_shapes):
        groups, clusters = input_shapes[0][0], input_shapes[3][0]
        return [(groups,), (groups, clusters), (groups, clusters), (groups, clusters)]

    def connection_pattern(self, node):
        # r and n are counts (no gradient); log C(n, r) enters the density additively.
        return [[False] * 4, [False] * 4, [True, False, False, False], *[[True] * 4] * 3]

    def pullback(self, inputs, outputs, cotangents):
        if any(not isinstance(c.type, DisconnectedType) for c in cotangents[1:]):
            raise NotImplementedError("BetaBinomialMixtureLogp: the derivative outputs cannot be differentiated")
        _, d_w, d_alpha, d_beta = outputs
        cotangent = cotangents[0]
        if isinstance(cotangent.type, DisconnectedType):
            return [disconnected_type() for _ in inputs]
        weighted = cotangent[:, None]
        return [
            disconnected_type(),
            disconnected_type(),
            cotangent,
            (weighted * d_w).sum(axis=0),
            (weighted * d_alpha).sum(axis=0),
            (weighted * d_beta).sum(axis=0),
        ]


beta_binomial_mixture_logp_op = BetaBinomialMixtureLogp()


def beta_binomial_mixture_logp(r, n, log_coefficient, w, alpha, beta):
    """log sum_k w_k BetaBinomial(r_i | n_i, alpha_k, beta_k) per group, as a PyTensor vector (see the module)."""
    return beta_binomial_mixture_logp_op(r, n, log_coefficient, w, alpha, beta)[0]


@register_funcify_default_op_cache_key(BetaBinomialMixtureLogp)
def _numba_funcify_beta_binomial_mixture_logp(op, node=None, **kwargs):
    return mixture_logp_and_gradients
