"""The BG/NBD log-likelihood (FHL 2005, eq. 6) and its gradient, in log space.

Split from :mod:`churnml.models.bgnbd` (the estimators). ``params`` are
``(r, alpha, a, b)``; ``x, tx, t_end`` the repeat purchases, the time of the last
purchase and the observed span per customer, in the conventions stated there.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln


def _distinct(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct repeat counts and the index back: the special functions of x run once each."""
    values, inverse = np.unique(x.ravel(), return_inverse=True)
    return values, inverse.reshape(x.shape)


def _counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct repeat counts as integers and the index back; x must be whole numbers."""
    ux, inv = _distinct(x)
    if not np.array_equal(ux, np.round(ux)):
        raise ValueError("frequency (repeat purchases) must be whole numbers")
    return ux.astype(np.int64), inv


def _beta_sums(a: float, b: float, n_max: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Running sums over k < n, n = 0 .. n_max, that give the beta ratios and their slopes.

    ``log B(a, b + n) / B(a, b) = sum log((b + k) / (a + b + k))`` and its derivatives
    in a and b, summed term by term: the difference ``betaln(a, b + n) - betaln(a, b)``
    of two numbers of size ~a + b would lose their digits as a, b grow (the direction
    in which the fit runs off on data without drop-out heterogeneity).

    Returns
    -------
    log_ratio, d_a, d_b
        Arrays of length ``n_max + 1``: the log ratio, minus sum 1 / (a + b + k)
        (its a-derivative) and sum a / ((b + k)(a + b + k)) (its b-derivative).
    """
    k = np.arange(n_max, dtype=float)

    def running(terms: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(terms)])

    return (
        running(-np.log1p(a / (b + k))),
        running(-1.0 / (a + b + k)),
        running(a / ((b + k) * (a + b + k))),
    )


def loglik_parts(
    params: np.ndarray, x: np.ndarray, tx: np.ndarray, t_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FHL (2005) eq. 6 in log space: (common factor, still-alive term, dropped-out term).

    Uses ``B(a + 1, b + x - 1) = B(a, b + x - 1) a / (a + b + x - 1)`` for the
    dropped-out term, so both beta ratios come from :func:`_beta_sums`.
    """
    r, alpha, a, b = params
    ux, inv = _counts(x)
    log_ratio = _beta_sums(a, b, int(ux.max(initial=0)))[0]
    head = (gammaln(r + ux) - gammaln(r) + r * np.log(alpha))[inv]
    still_alive = log_ratio[ux][inv] - (r + x) * np.log(alpha + t_end)
    before = np.maximum(ux - 1, 0)  # placeholder where x = 0; that term is masked
    dropped = np.log(a) - np.log(a + b + before) + log_ratio[before]
    dropped = np.where(ux > 0, dropped, -np.inf)[inv]
    return head, still_alive, dropped - (r + x) * np.log(alpha + tx)


def loglik(params: np.ndarray, x: np.ndarray, tx: np.ndarray, t_end: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood."""
    head, still_alive, dropped = loglik_parts(params, x, tx, t_end)
    return head + np.logaddexp(still_alive, dropped)


def loglik_grad(
    params: np.ndarray, x: np.ndarray, tx: np.ndarray, t_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer log-likelihood and its gradient w.r.t. (r, alpha, a, b), shape (4, n)."""
    r, alpha, a, b = params
    head, still_alive, dropped = loglik_parts(params, x, tx, t_end)
    tail = np.logaddexp(still_alive, dropped)
    w_alive = np.exp(still_alive - tail)
    w_dropped = 1.0 - w_alive  # 0 where x = 0, so the placeholder below never counts
    ux, inv = _counts(x)
    _, sum_a, sum_b = _beta_sums(a, b, int(ux.max(initial=0)))
    before = np.maximum(ux - 1, 0)
    d_r = (digamma(r + ux) - digamma(r))[inv] + np.log(alpha)
    d_r -= w_alive * np.log(alpha + t_end) + w_dropped * np.log(alpha + tx)
    d_alpha = r / alpha - (r + x) * (w_alive / (alpha + t_end) + w_dropped / (alpha + tx))
    d_a = sum_a[ux][inv] + w_dropped / a
    d_b = w_alive * sum_b[ux][inv] + w_dropped * (sum_b[before] - 1.0 / (a + b + before))[inv]
    return head + tail, np.stack([d_r, d_alpha, d_a, d_b])


def common_dropout_loglik(
    r: float, alpha: float, p: float, x: np.ndarray, tx: np.ndarray, t_end: np.ndarray
) -> np.ndarray:
    """Per-customer log-likelihood in the limit a, b -> inf with a / (a + b) = p.

    The drop-out probability is then p for everyone (no heterogeneity): the beta
    ratios of eq. 6 become ``(1 - p) ** x`` and ``p (1 - p) ** (x - 1)``.
    """
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    still_alive = x * np.log1p(-p) - (r + x) * np.log(alpha + t_end)
    dropped = np.log(p) + np.maximum(x - 1, 0) * np.log1p(-p) - (r + x) * np.log(alpha + tx)
    return head + np.logaddexp(still_alive, np.where(x > 0, dropped, -np.inf))
