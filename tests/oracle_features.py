"""Plain-pandas reference for a subset of churnml's features: the test oracle.

Written independently of :mod:`churnml.features`, as directly as possible: one
snapshot at a time, boolean masks on timestamps and ``groupby``. It covers the core
RFM / spend-dynamics family (also the benchmark's pandas reference), cadence,
substitute / discount shares, event counts, open complaints and returns. Used only
by tests and ``benchmarks/features.py``, never by the pipeline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)
SECONDS_PER_DAY = 86400.0


def _days(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / SECONDS_PER_DAY


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype(float)
    return (num.astype(float) / den).where(den > 0)


def purchases_of(transactions: pd.DataFrame) -> pd.DataFrame:
    """Positive, non-returned lines."""
    returned = transactions["is_return"].fillna(False).astype(bool) if "is_return" in transactions \
        else pd.Series(False, index=transactions.index)
    return transactions.loc[(transactions["amount"] >= 0) & ~returned]


def _sum_by(frame: pd.DataFrame, mask: pd.Series, column: str | None, index: pd.Index) -> pd.Series:
    rows = frame.loc[mask]
    grouped = rows.groupby("customer_id")
    out = grouped.size() if column is None else grouped[column].sum()
    return out.reindex(index, fill_value=0)


def _trend(tx: pd.DataFrame, t: pd.Timestamp, ids: pd.Index, observed: pd.Series,
           cfg: dict[str, Any]) -> pd.Series:
    """Relative least-squares slope over each customer's wholly observed bins.

    Bin ``i`` (``x = -i``) enters customer's fit when it lies after their observed
    start (``(i + 1)`` widths within ``observed`` days); the slope is the textbook
    ``sum((x - mean x)(y - mean y)) / sum((x - mean x)^2)`` over those bins.
    """
    bins, width = int(cfg["purchases"]["trend_bins"]), int(cfg["purchases"]["trend_bin_days"])
    span = tx.loc[tx["ts"] >= t - bins * width * DAY]
    # bin i: more than i and at most i + 1 widths back (the windows' edges); -(x // w) = ceil
    index = -((span["ts"] - t) // (width * DAY)).astype(int) - 1
    y = span.groupby([span["customer_id"], index])["amount"].sum().unstack()
    y = y.reindex(index=ids, columns=range(bins)).fillna(0.0).to_numpy()
    k = np.minimum(bins, (observed.reindex(ids).to_numpy() // width))
    seen = np.arange(bins)[None, :] < k[:, None]
    x = np.broadcast_to(-np.arange(bins, dtype=float), y.shape)
    n = seen.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_mean = np.where(seen, x, 0).sum(axis=1) / n
        y_mean = np.where(seen, y, 0).sum(axis=1) / n
        dx = np.where(seen, x - x_mean[:, None], 0)
        slope = (dx * (y - y_mean[:, None])).sum(axis=1) / (dx**2).sum(axis=1)
        ok = (n >= int(cfg["purchases"]["trend_min_bins"])) & (y_mean > 0)
        return pd.Series(np.where(ok, slope / y_mean, np.nan), index=ids)


def core_snapshot(customers: pd.DataFrame, purchases: pd.DataFrame, t: pd.Timestamp,
                  cfg: dict[str, Any], data_start: pd.Timestamp | None = None) -> pd.DataFrame:
    """RFM and spend dynamics as of ``t`` (the ``purchases`` family plus tenure).

    The baseline and trend count only the days after ``max(signup_date, data_start)``.
    """
    grid = customers.loc[customers["signup_date"] < t, ["customer_id", "signup_date"]]
    ids = pd.Index(grid["customer_id"], name="customer_id")
    tx = purchases.loc[purchases["ts"] < t]
    out = pd.DataFrame(index=ids)
    signup = grid.set_index("customer_id")["signup_date"]
    out["tenure_days"] = _days(t - signup)
    since = signup if data_start is None else signup.clip(lower=pd.Timestamp(data_start))
    observed = _days(t - since)
    everything = pd.Series(True, index=tx.index)
    out["frequency"] = _sum_by(tx, everything, None, ids)
    out["monetary"] = _sum_by(tx, everything, "amount", ids)
    by_customer = tx.groupby("customer_id")["ts"]
    out["recency_days"] = _days(t - by_customer.max().reindex(ids))
    out["days_since_first_purchase"] = _days(t - by_customer.min().reindex(ids))
    out["avg_order_value"] = _ratio(out["monetary"], out["frequency"])
    baseline_days = int(cfg["purchases"]["baseline_days"])
    baseline = _ratio(_sum_by(tx, tx["ts"] >= t - baseline_days * DAY, "amount", ids),
                      observed.clip(upper=baseline_days))
    for w in [int(w) for w in cfg["windows_days"]]:
        recent = tx["ts"] >= t - w * DAY
        prior = (tx["ts"] >= t - 2 * w * DAY) & (tx["ts"] < t - w * DAY)
        out[f"count_{w}d"] = _sum_by(tx, recent, None, ids)
        out[f"spend_{w}d"] = _sum_by(tx, recent, "amount", ids)
        out[f"count_prev_{w}d"] = _sum_by(tx, prior, None, ids)
        out[f"spend_prev_{w}d"] = _sum_by(tx, prior, "amount", ids)
        out[f"count_ratio_{w}d"] = _ratio(out[f"count_{w}d"], out[f"count_prev_{w}d"])
        out[f"spend_ratio_{w}d"] = _ratio(out[f"spend_{w}d"], out[f"spend_prev_{w}d"])
        versus = _ratio(out[f"spend_{w}d"] / w, baseline).where(observed >= w)
        out[f"spend_vs_baseline_{w}d"] = versus
        out[f"spend_drop_{w}d"] = (versus < float(cfg["purchases"]["drop_ratio"])).astype(
            float).where(versus.notna())
    bins, width = int(cfg["purchases"]["trend_bins"]), int(cfg["purchases"]["trend_bin_days"])
    out[f"spend_trend_{bins * width}d"] = _trend(tx, t, ids, observed, cfg)
    return out.reset_index().assign(as_of=t)


def cadence_snapshot(purchases: pd.DataFrame, t: pd.Timestamp, ids: pd.Index) -> pd.DataFrame:
    """Purchase days, mean / spread of the gaps between them, and overdue measures."""
    tx = purchases.loc[purchases["ts"] < t]
    days = tx.assign(day=tx["ts"].dt.normalize())[["customer_id", "day"]].drop_duplicates()
    days = days.sort_values(["customer_id", "day"])
    days["gap"] = days.groupby("customer_id")["day"].diff() / DAY
    stats = days.groupby("customer_id").agg(purchase_days=("day", "size"),
                                            mean_gap_days=("gap", "mean"),
                                            gap_std_days=("gap", "std"))
    out = stats.reindex(ids)
    out["purchase_days"] = out["purchase_days"].fillna(0)
    recency = _days(t - tx.groupby("customer_id")["ts"].max().reindex(ids))
    out["overdue_ratio"] = _ratio(recency, out["mean_gap_days"])
    out["overdue_days"] = recency - out["mean_gap_days"]
    return out


def share_snapshot(purchases: pd.DataFrame, t: pd.Timestamp, ids: pd.Index,
                   cfg: dict[str, Any]) -> pd.DataFrame:
    """Substitute share of spend: last ``share_window_days`` and the whole history."""
    s = int(cfg["signals"]["share_window_days"])
    tx = purchases.loc[purchases["ts"] < t]
    sub = tx["amount"].where(tx["category"].isin(cfg["signals"]["substitute_categories"]), 0.0)
    tx = tx.assign(sub=sub)
    recent = tx["ts"] >= t - s * DAY
    everything = pd.Series(True, index=tx.index)
    out = pd.DataFrame(index=ids)
    out[f"substitute_share_{s}d"] = _ratio(_sum_by(tx, recent, "sub", ids),
                                           _sum_by(tx, recent, "amount", ids))
    out["substitute_share_all"] = _ratio(_sum_by(tx, everything, "sub", ids),
                                         _sum_by(tx, everything, "amount", ids))
    return out


def resolution_times(events: pd.DataFrame, cfg: dict[str, Any]) -> pd.Series:
    """When each complaint is known resolved: value flag (delayed) or a later follow-up."""
    exp = cfg["experience"]
    complaints = events.loc[events["event_type"] == exp["complaint_event"]]
    delay = pd.Timedelta(days=int(exp["resolution_delay_days"]))
    by_value = (complaints["ts"] + delay).where(complaints["value"] >= 1)
    helps = events.loc[events["event_type"].isin(exp["resolution_event_types"]),
                       ["customer_id", "ts"]]
    follow = []
    for _, row in complaints.iterrows():
        later = helps.loc[(helps["customer_id"] == row["customer_id"]) & (helps["ts"] > row["ts"]),
                          "ts"]
        follow.append(later.min() if len(later) else pd.NaT)
    follow = pd.Series(follow, index=complaints.index, dtype="datetime64[us]")
    return pd.concat([by_value, follow], axis=1).min(axis=1)


def events_snapshot(events: pd.DataFrame, resolved: pd.Series, t: pd.Timestamp, ids: pd.Index,
                    cfg: dict[str, Any]) -> pd.DataFrame:
    """Event counts per type and window, open complaints."""
    ev = events.loc[events["ts"] < t]
    out = pd.DataFrame(index=ids)
    for family in ("signals", "experience"):
        for w in [int(w) for w in cfg[family]["windows_days"]]:
            for kind in cfg[family]["event_types"]:
                hit = (ev["event_type"] == kind) & (ev["ts"] >= t - w * DAY)
                out[f"{kind}_{w}d"] = _sum_by(ev, hit, None, ids)
    exp = cfg["experience"]
    age = int(exp["open_complaint_max_age_days"])
    still = resolved.reindex(ev.index)
    is_open = ((ev["event_type"] == exp["complaint_event"]) & (ev["ts"] >= t - age * DAY)
               & (still.isna() | (still >= t)))
    out["open_complaints"] = _sum_by(ev, is_open, None, ids)
    return out


def returns_snapshot(transactions: pd.DataFrame, t: pd.Timestamp, ids: pd.Index,
                     cfg: dict[str, Any]) -> pd.DataFrame:
    """Returned lines and amount in the return window."""
    w = int(cfg["experience"]["return_window_days"])
    returned = transactions["is_return"].fillna(False).astype(bool) | (transactions["amount"] < 0)
    rt = transactions.loc[returned & (transactions["ts"] < t)].assign(
        back=lambda d: d["amount"].abs())
    recent = rt["ts"] >= t - w * DAY
    return pd.DataFrame({f"returns_{w}d": _sum_by(rt, recent, None, ids),
                         f"return_amount_{w}d": _sum_by(rt, recent, "back", ids)})


def oracle_core(customers: pd.DataFrame, transactions: pd.DataFrame, dates: list[pd.Timestamp],
                cfg: dict[str, Any], data_start: pd.Timestamp | None = None) -> pd.DataFrame:
    """The core subset (``purchases`` family + tenure) for every date, keyed and sorted."""
    purchases = purchases_of(transactions)
    parts = [core_snapshot(customers, purchases, pd.Timestamp(t), cfg, data_start)
             for t in dates]
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(["customer_id", "as_of"], ignore_index=True)


def oracle_features(tables: dict[str, pd.DataFrame], dates: list[pd.Timestamp],
                    cfg: dict[str, Any], data_start: pd.Timestamp | None = None) -> pd.DataFrame:
    """Core subset plus cadence, substitute shares, event counts, open complaints, returns."""
    customers, transactions = tables["customers"], tables["transactions"]
    purchases = purchases_of(transactions)
    events = tables["events"]
    resolved = resolution_times(events, cfg)
    parts = []
    for t in [pd.Timestamp(d) for d in dates]:
        core = core_snapshot(customers, purchases, t, cfg, data_start).set_index("customer_id")
        ids = core.index
        extra = [cadence_snapshot(purchases, t, ids), share_snapshot(purchases, t, ids, cfg),
                 events_snapshot(events, resolved, t, ids, cfg),
                 returns_snapshot(transactions, t, ids, cfg)]
        parts.append(pd.concat([core, *extra], axis=1).reset_index())
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(["customer_id", "as_of"], ignore_index=True)


def assert_frames_close(actual: pd.DataFrame, expected: pd.DataFrame, columns: list[str],
                        rtol: float = 1e-9, atol: float = 1e-9) -> None:
    """Same keys and, column by column, equal values (nulls in the same places)."""
    key = ["customer_id", "as_of"]
    left = actual.sort_values(key, ignore_index=True)
    right = expected.sort_values(key, ignore_index=True)
    assert left["customer_id"].astype(str).tolist() == right["customer_id"].astype(str).tolist()
    assert (pd.to_datetime(left["as_of"]).to_numpy() == pd.to_datetime(right["as_of"]).to_numpy()
            ).all()
    for column in columns:
        a = pd.to_numeric(left[column], errors="coerce").to_numpy(dtype=float)
        b = pd.to_numeric(right[column], errors="coerce").to_numpy(dtype=float)
        same_nulls = np.isnan(a) == np.isnan(b)
        assert same_nulls.all(), f"{column}: nulls differ at rows {np.flatnonzero(~same_nulls)[:5]}"
        ok = np.isnan(a) | np.isclose(a, b, rtol=rtol, atol=atol)
        assert ok.all(), (f"{column}: values differ at rows {np.flatnonzero(~ok)[:5]}: "
                          f"{a[~ok][:5]} vs {b[~ok][:5]}")


# --- random canonical worlds for property tests ----------------------------------------

WORLD_START = pd.Timestamp("2023-01-01")
WORLD_DAYS = 540
EVENT_KINDS = ("complaint", "support_contact", "competitor_inquiry", "price_comparison",
               "cancel_page_visit", "port_out_request", "downgrade", "chargeback",
               "payment_failure", "referral", "survey_score", "public_complaint")


def _times(rng: np.random.Generator, n: int, edges: list[pd.Timestamp]) -> np.ndarray:
    """Whole-second times over the world; a third land exactly on a window edge."""
    seconds = rng.integers(0, WORLD_DAYS * 86400, n)
    times = WORLD_START.to_datetime64() + seconds.astype("timedelta64[s]")
    on_edge = rng.random(n) < 1 / 3
    if edges and on_edge.any():
        times[on_edge] = np.asarray(edges, dtype="datetime64[us]")[
            rng.integers(0, len(edges), on_edge.sum())]
    return times.astype("datetime64[us]")


def _twins(rng: np.random.Generator, n: int) -> np.ndarray:
    """Row positions where a quarter of the rows point at another row: copying the
    customer, time and type from there makes same-instant twins (with their own values),
    where a feature that depends on row order shows it."""
    source = np.arange(n)
    copy = np.flatnonzero(rng.random(n) < 1 / 4)
    source[copy] = rng.integers(0, n, len(copy))
    return source


def window_edges(dates: list[pd.Timestamp], days: list[int]) -> list[pd.Timestamp]:
    """Every ``t - d`` (snapshot minus a window length): where off-by-one errors hide."""
    return [pd.Timestamp(t) - pd.Timedelta(days=d) for t in dates for d in [0, *days]]


def random_world(seed: int, n_customers: int, n_tx: int, n_events: int, n_incidents: int,
                 dates: list[pd.Timestamp]) -> dict[str, pd.DataFrame]:
    """A small canonical world (customers, transactions, events, incidents)."""
    rng = np.random.default_rng(seed)
    edges = window_edges(dates, [30, 60, 90, 180, 360])
    ids = np.array([f"C{i:03d}" for i in rng.permutation(n_customers)])
    signup = WORLD_START + pd.to_timedelta(rng.integers(-200, 400, n_customers), unit="D")
    customers = pd.DataFrame({"customer_id": ids, "signup_date": signup.astype("datetime64[us]"),
                              "region": rng.choice(["north", "south"], n_customers),
                              "plan": rng.choice(["basic", "plus"], n_customers),
                              "channel": rng.choice(["web", "app"], n_customers)})
    owner = rng.integers(0, n_customers, n_tx)
    returned = rng.random(n_tx) < 0.1
    amount = np.round(rng.uniform(1, 100, n_tx), 2)
    transactions = pd.DataFrame({
        "customer_id": ids[owner], "ts": _times(rng, n_tx, edges),
        "amount": np.where(returned, -amount, amount),
        "category": rng.choice(["core", "substitute", "discount"], n_tx),
        "discount": np.where(rng.random(n_tx) < 0.3, np.round(amount * 0.2, 2), 0.0),
        "is_return": returned, "product_id": rng.choice(["P1", "P2", "P3"], n_tx)})
    twin = _twins(rng, n_events)
    kind = rng.choice(EVENT_KINDS, n_events)[twin]
    incident_ids = [f"I{j}" for j in range(n_incidents)]
    linked = (kind == "complaint") & (rng.random(n_events) < 0.5) & (n_incidents > 0)
    events = pd.DataFrame({
        "customer_id": ids[rng.integers(0, n_customers, n_events)][twin],
        "ts": _times(rng, n_events, edges)[twin], "event_type": kind,
        "value": np.where(kind == "survey_score", rng.integers(0, 11, n_events),
                          np.where(kind == "complaint", rng.integers(0, 2, n_events), np.nan)),
        "incident_id": pd.Series(np.where(linked, rng.choice(incident_ids or ["I0"], n_events),
                                          None), dtype="str"),
        "severity": np.where(kind == "complaint", rng.integers(1, 4, n_events), np.nan)})
    start = _times(rng, n_incidents, edges)
    incidents = pd.DataFrame({
        "incident_id": pd.Series(incident_ids, dtype="str"), "start": start,
        "end": (start + rng.integers(1, 60, n_incidents).astype("timedelta64[D]")).astype(
            "datetime64[us]"),
        "scope": rng.choice(["region", "product", "batch", "courier"], n_incidents),
        "severity": rng.integers(1, 4, n_incidents).astype(float),
        "region": pd.Series(rng.choice(["north", "south", None], n_incidents), dtype="str"),
        "product_id": pd.Series(rng.choice(["P1", "P2", None], n_incidents), dtype="str")})
    return {"customers": customers, "transactions": transactions, "events": events,
            "incidents": incidents}


def load_config(section: str) -> dict[str, Any]:
    """A config group's default file (``conf/<section>/default.yaml``) as a dict."""
    import yaml

    path = Path(__file__).resolve().parents[1] / "conf" / section / "default.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))
