"""BG/NBD (Fader, Hardie & Lee 2005) fitted by maximum likelihood.

Used as a feature source (P(alive), expected purchases) and as the probabilistic
attrition baseline of DESIGN §7. We wrote it ourselves because ``lifetimes`` no
longer runs under pandas 3 and PyMC-Marketing costs ~25 s and ~800 MB per fit,
while the model is four parameters with a closed-form likelihood.

Conventions (FHL 2005), one time unit throughout (the caller picks days or weeks):
``frequency`` x is the number of REPEAT purchases, ``recency`` t_x the time of the
last purchase measured from the first one (0 when x = 0), and ``T`` the time from
the first purchase to the end of observation. Building (x, t_x, T) from churnml
feature rows or from a purchase log lives in :mod:`churnml.models.clv_data`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import expit, hyp2f1
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from churnml.models.bgnbd_likelihood import (
    common_dropout_loglik,
    loglik,
    loglik_grad,
)
from churnml.models.clv_data import rfm_from_features, rfm_from_transactions

__all__ = ["BGNBD", "BGNBDBaseline", "rfm_from_features", "rfm_from_transactions"]

PARAM_NAMES = ("r", "alpha", "a", "b")
LOG_PARAM_BOUND = 20.0  # |log parameter| cap: keeps exp() finite while the optimizer explores
FIT_TOL = 1e-12  # on the mean negative log-likelihood (per customer), so tiny on purpose
FIT_MAX_ITER = 2000
RECENCY_SLACK = 1e-9  # float round-off allowed in recency <= T
A_ONE_GAP = 1e-6  # eq. 10 divides by a - 1: closer than this, evaluate at a = 1 + A_ONE_GAP
DEFAULT_HORIZON_DAYS = 90.0
DEFAULT_UNIT_DAYS = 7.0


def _rfm_arrays(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> list[np.ndarray]:
    """Validated, broadcast float arrays (x, t_x, T)."""
    arrays = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    x, tx, t_end = np.broadcast_arrays(*arrays)
    if not (np.isfinite(x).all() and np.isfinite(tx).all() and np.isfinite(t_end).all()):
        raise ValueError("frequency, recency and T must be finite")
    if (x < 0).any() or (tx < 0).any() or (tx > t_end + RECENCY_SLACK).any():
        raise ValueError("need frequency >= 0 and 0 <= recency <= T")
    return [x, tx, t_end]


def _span_arrays(t: ArrayLike, *rfm: ArrayLike) -> list[np.ndarray]:
    """Validated, broadcast (t, x, t_x, T) with the future span t >= 0."""
    t, x, tx, t_end = np.broadcast_arrays(np.asarray(t, dtype=float), *_rfm_arrays(*rfm))
    if not (t >= 0).all():
        raise ValueError("t must be >= 0")
    return [t, x, tx, t_end]


class BGNBD(BaseEstimator):
    """Beta-geometric / negative-binomial model of repeat buying (FHL 2005).

    Parameters
    ----------
    l2
        Penalty on the squared log-parameters, added to the MEAN negative
        log-likelihood; 0 (default) is plain maximum likelihood.

    Attributes
    ----------
    r_, alpha_ : float
        Gamma heterogeneity of the purchase rate lambda.
    a_, b_ : float
        Beta heterogeneity of the drop-out probability p.
    loglik_ : float
        Total (unpenalised) log-likelihood at the estimate.

    Notes
    -----
    Every method takes ``frequency, recency, T`` (and ``t``, the future span) as
    array-likes in the module's conventions, broadcast together; it returns an
    array of that shape.
    """

    def __init__(self, l2: float = 0.0):
        self.l2 = l2

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BGNBD:
        """Maximum-likelihood fit over log-parameters (L-BFGS-B from all ones).

        Parameters
        ----------
        frequency, recency, T
            Repeat purchases x (whole numbers), time of the last purchase t_x,
            observed span T, one entry per customer, with x >= 0 and 0 <= t_x <= T.

        Returns
        -------
        BGNBD
            ``self``; warns with ``ConvergenceWarning`` when the optimizer fails or
            the MLE sits at infinity, naming the parameters that run off. The usual
            case is a, b -> inf together with a / (a + b) fixed: the data show no
            heterogeneity in the drop-out probability, the fit approaches the model
            with one common drop-out probability (its predictions are sound) but
            a and b themselves are arbitrary; pass a small ``l2`` to keep them finite.
        """
        x, tx, t_end = _rfm_arrays(frequency, recency, T)

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            params = np.exp(log_params)
            ll, grad = loglik_grad(params, x, tx, t_end)
            penalty = self.l2 * np.sum(log_params**2)
            return float(penalty - ll.mean()), 2 * self.l2 * log_params - grad.mean(axis=1) * params

        start = np.zeros(len(PARAM_NAMES))
        bounds = [(-LOG_PARAM_BOUND, LOG_PARAM_BOUND)] * len(PARAM_NAMES)
        opts = {"ftol": FIT_TOL, "gtol": FIT_TOL, "maxiter": FIT_MAX_ITER}
        res = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in np.exp(res.x))
        self.loglik_ = float(loglik(self._params(), x, tx, t_end).sum())
        run_off = self._run_off(res.x, x, tx, t_end)
        if run_off:
            status = "" if res.success else f" (optimizer: {res.message})"
            remedy = "pass a small l2 > 0" if self.l2 == 0 else f"raise l2 (now {self.l2:g})"
            warnings.warn(
                f"BG/NBD fit: the estimate is at infinity: {'; '.join(run_off)}{status}. "
                f"For finite estimates, {remedy}",
                ConvergenceWarning,
                stacklevel=2,
            )
        elif not res.success:
            warnings.warn(f"BG/NBD fit: {res.message}", ConvergenceWarning, stacklevel=2)
        return self

    def _run_off(
        self, log_params: np.ndarray, x: np.ndarray, tx: np.ndarray, t_end: np.ndarray
    ) -> list[str]:
        """Why the fitted parameters stand for an MLE at infinity, one phrase each (or none).

        a, b run off together when the common-drop-out limit (a, b -> inf at the fitted
        a / (a + b), r and alpha) has a higher likelihood than the fit: the likelihood
        still rises along that ray, however slowly, so the optimizer stops wherever
        the gain drops below its tolerance. Checked for the plain MLE only (``l2`` = 0:
        a penalty keeps the estimate finite on purpose). Any other log-parameter that
        ends on the cap ``LOG_PARAM_BOUND`` runs off too.
        """
        found, collapsed = [], set()
        p_drop = self.a_ / (self.a_ + self.b_)
        if self.l2 == 0 and 0 < p_drop < 1:
            limit = common_dropout_loglik(self.r_, self.alpha_, p_drop, x, tx, t_end).sum()
            if limit > self.loglik_:
                found.append(
                    f"a and b grow without bound at a / (a + b) = {p_drop:.4g} (stopped at "
                    f"a = {self.a_:.3g}, b = {self.b_:.3g}; the limit's log-likelihood is "
                    f"{limit - self.loglik_:.3g} higher still): the data show no heterogeneity "
                    f"in the drop-out probability, so the fit is the model with one common "
                    f"drop-out probability {p_drop:.4g}, and a and b are arbitrary"
                )
                collapsed = {"a", "b"}
        for name, value in zip(PARAM_NAMES, log_params, strict=True):
            if name not in collapsed and abs(value) >= LOG_PARAM_BOUND:
                where = "infinity" if value > 0 else "0"
                found.append(f"{name} runs off to {where} (log {name} = {value:g} is the cap)")
        return found

    def _params(self) -> np.ndarray:
        check_is_fitted(self, ["r_", "alpha_", "a_", "b_"])
        return np.array([self.r_, self.alpha_, self.a_, self.b_])

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """Per-customer log-likelihood under the fitted parameters (sum it for the total)."""
        return loglik(self._params(), *_rfm_arrays(frequency, recency, T))

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        """P(still active at T | x, t_x, T), FHL (2005) eq. 13 / Fader-Hardie note.

        Equals 1 when x = 0: in the BG/NBD a customer can drop out only right after
        a REPEAT purchase, so nobody has left before making one.
        """
        r, alpha, a, b = self._params()
        x, tx, t_end = _rfm_arrays(frequency, recency, T)
        repeat = x > 0
        b_after = np.where(repeat, b + x - 1, 1.0)  # placeholder where x = 0
        log_odds_dead = (
            np.log(a) - np.log(b_after) + (r + x) * (np.log(alpha + t_end) - np.log(alpha + tx))
        )
        return np.where(repeat, expit(-log_odds_dead), 1.0)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """E[purchases in (T, T + t] | x, t_x, T], FHL (2005) eq. 10.

        The closed form is 0/0 at a = 1; within ``A_ONE_GAP`` of it, a is moved to
        1 + A_ONE_GAP (the expectation is smooth in a, so the error is of that order).
        """
        r, alpha, a, b = self._params()
        t, x, tx, t_end = _span_arrays(t, frequency, recency, T)
        a = 1 + A_ONE_GAP if abs(a - 1) < A_ONE_GAP else a  # the form is 0/0 at a = 1
        decay = np.exp((r + x) * (np.log(alpha + t_end) - np.log(alpha + t_end + t)))
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + t_end + t))
        if_alive = (a + b + x - 1) / (a - 1) * (1 - decay * hyp)
        return np.maximum(if_alive, 0.0) * self.p_alive(x, tx, t_end)  # clip round-off at t ~ 0

    def prob_no_purchase(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        """P(no purchase in (T, T + t] | x, t_x, T).

        Dead customers never buy; a living one buys at rate lambda, whose posterior
        given the history and survival is Gamma(r + x, alpha + T), so
        ``P(alive) * ((alpha + T) / (alpha + T + t)) ** (r + x) + 1 - P(alive)``.
        """
        r, alpha, _, _ = self._params()
        t, x, tx, t_end = _span_arrays(t, frequency, recency, T)
        quiet_if_alive = np.exp((r + x) * (np.log(alpha + t_end) - np.log(alpha + t_end + t)))
        alive = self.p_alive(x, tx, t_end)
        return alive * quiet_if_alive + (1 - alive)

    def to_dict(self) -> dict[str, float]:
        """Plain JSON-able parameters: r, alpha, a, b, loglik, l2."""
        params = dict(zip(PARAM_NAMES, self._params().tolist(), strict=True))
        return {**params, "loglik": self.loglik_, "l2": float(self.l2)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BGNBD:
        """Rebuild a fitted model from :meth:`to_dict` output."""
        model = cls(l2=float(data.get("l2", 0.0)))
        model.r_, model.alpha_, model.a_, model.b_ = (float(data[k]) for k in PARAM_NAMES)
        model.loglik_ = float(data.get("loglik", np.nan))
        return model


class BGNBDBaseline(ClassifierMixin, BaseEstimator):
    """Attrition baseline: P(no purchase within ``horizon_days``) under a BG/NBD.

    Fitted on the (x, t_x, T) of the feature rows themselves (stacked snapshots of
    one customer enter as separate customers: fine for a baseline). Rows without
    any purchase have x = t_x = T = 0: they add nothing to the likelihood and are
    scored with the population prior.

    Required columns: ``frequency, recency_days, days_since_first_purchase``.

    Parameters
    ----------
    horizon_days
        Label horizon; the positive class is "no purchase in the next horizon_days".
    unit_days
        Model time unit in days (7 = weeks, as in the BG/NBD literature).
    l2
        Passed to :class:`BGNBD`.
    """

    def __init__(
        self,
        horizon_days: float = DEFAULT_HORIZON_DAYS,
        unit_days: float = DEFAULT_UNIT_DAYS,
        l2: float = 0.0,
    ):
        self.horizon_days = horizon_days
        self.unit_days = unit_days
        self.l2 = l2

    def fit(self, X: pd.DataFrame, y: ArrayLike) -> BGNBDBaseline:
        """Fit the BG/NBD on the rows' (x, t_x, T); ``y`` only fixes classes_ = [0, 1]."""
        labels = np.unique(np.asarray(y))
        if not set(labels.tolist()) <= {0, 1}:
            raise ValueError(f"labels must be 0/1, got {labels[:5]!r}")
        self.classes_ = np.array([0, 1])
        self.model_ = BGNBD(l2=self.l2).fit(*self._rfm(X))
        return self

    def _rfm(self, X: pd.DataFrame) -> list[np.ndarray]:
        rfm = rfm_from_features(X, self.unit_days)
        return [rfm[c].to_numpy() for c in ("frequency", "recency", "T")]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Shape (n, 2); column 1 = P(no purchase within horizon_days)."""
        check_is_fitted(self, "model_")
        quiet = self.model_.prob_no_purchase(self.horizon_days / self.unit_days, *self._rfm(X))
        return np.column_stack([1 - quiet, quiet])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """1 where P(no purchase within horizon_days) > 1/2."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def p_alive(self, X: pd.DataFrame) -> np.ndarray:
        """BG/NBD P(alive) per row, for use as a feature."""
        check_is_fitted(self, "model_")
        return self.model_.p_alive(*self._rfm(X))

    def expected_purchases(self, X: pd.DataFrame, horizon_days: float | None = None) -> np.ndarray:
        """Expected purchases in the next ``horizon_days`` (default: the label horizon)."""
        check_is_fitted(self, "model_")
        days = self.horizon_days if horizon_days is None else horizon_days
        return self.model_.expected_purchases(days / self.unit_days, *self._rfm(X))
