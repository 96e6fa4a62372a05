"""Ground-truth tables (DESIGN §5), written under ``<out>/truth/``; read only by evaluation.

* ``customers``: ``customer_id, exit_date, exit_cause, return_date, rung`` - the
  customer's latest exit before the end of data (null if none), its cause, the return
  that followed it (null if none) and the true loyalty-ladder rung at the end;
* ``exits``: every exit episode, same columns minus ``rung`` (a customer can leave,
  come back and leave again);
* ``exposures``: ``customer_id, incident_id, exposed_at`` for every real exposure.

``uplift`` comes from :class:`churnml.simulate.records.CampaignLog`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnml.simulate.population import Population
from churnml.simulate.shocks import Incidents
from churnml.simulate.spec import CAUSES, Calendar, strings, to_datetime
from churnml.simulate.state import State

Episode = tuple[np.ndarray, ...]
RUNGS = ("terrorist", "toxic", "prospect", "customer", "client", "supporter", "advocate")


def _seconds(cal: Calendar, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    return cal.edges[month] + (day.astype(np.float64) * 86_400).astype(np.int64)


def _dates(seconds: np.ndarray) -> pd.Series:
    """Epoch seconds to datetime64[us]; negative values mean missing."""
    return pd.Series(to_datetime(np.maximum(seconds, 0))).where(seconds >= 0)


def _episodes(cal: Calendar, exits: list[Episode], returns: list[Episode]) -> pd.DataFrame:
    """One row per exit (row, exit_s, cause, return_s), in time order."""
    ex_rows = np.concatenate([e[0] for e in exits]).astype(np.int64)
    ex_s = _seconds(cal, np.concatenate([e[1] for e in exits]).astype(np.int64),
                    np.concatenate([e[2] for e in exits]))
    cause = np.concatenate([e[3] for e in exits]).astype(np.int64)
    back_rows = np.concatenate([r[0] for r in returns]).astype(np.int64)
    back_s = _seconds(cal, np.concatenate([r[1] for r in returns]).astype(np.int64),
                      np.concatenate([r[2] for r in returns]))
    out = pd.DataFrame({"row": ex_rows, "exit_s": ex_s, "cause": cause})
    out["nth"] = out.groupby("row").cumcount()
    back = pd.DataFrame({"row": back_rows, "return_s": back_s})
    back["nth"] = back.groupby("row").cumcount()
    out = out.merge(back, on=["row", "nth"], how="left")
    out["return_s"] = out["return_s"].fillna(-1).astype(np.int64)
    return out.sort_values(["exit_s", "row"], kind="stable").reset_index(drop=True)


def exits_table(pop: Population, episodes: pd.DataFrame) -> pd.DataFrame:
    """Every exit episode: ``customer_id, exit_date, exit_cause, return_date``."""
    return pd.DataFrame({
        "customer_id": strings(pop.ids, episodes["row"].to_numpy()),
        "exit_date": _dates(episodes["exit_s"].to_numpy()).to_numpy(dtype="datetime64[us]"),
        "exit_cause": strings(CAUSES, episodes["cause"].to_numpy()),
        "return_date": _dates(episodes["return_s"].to_numpy()).to_numpy(dtype="datetime64[us]"),
    })


def customers_truth(cfg: dict[str, Any], pop: Population, state: State,
                    episodes: pd.DataFrame) -> pd.DataFrame:
    """Latest exit, its cause and return, and the loyalty rung, per customer."""
    n = len(pop)
    last = episodes.groupby("row").tail(1)
    rows = last["row"].to_numpy()
    exit_s, ret_s, cause = np.full(n, -1), np.full(n, -1), np.full(n, -1)
    exit_s[rows], ret_s[rows] = last["exit_s"].to_numpy(), last["return_s"].to_numpy()
    cause[rows] = last["cause"].to_numpy()
    return pd.DataFrame({
        "customer_id": strings(pop.ids),
        "exit_date": _dates(exit_s).to_numpy(dtype="datetime64[us]"),
        "exit_cause": strings([*CAUSES, None], np.where(cause >= 0, cause, len(CAUSES))),
        "return_date": _dates(ret_s).to_numpy(dtype="datetime64[us]"),
        "rung": strings(rungs(cfg, pop, state)),
    })


def rungs(cfg: dict[str, Any], pop: Population, state: State) -> np.ndarray:
    """True loyalty-ladder rung at the end of the simulated period."""
    r = cfg["rungs"]
    return np.select(
        [pop.terrorist, pop.toxic, state.advocate, pop.supporter,
         state.purchases < int(r["prospect_max_purchases"]), pop.rate >= float(r["client_rate"])],
        ["terrorist", "toxic", "advocate", "supporter", "prospect", "client"], default="customer")


def exposures_table(pop: Population, incidents: Incidents, cal: Calendar) -> pd.DataFrame:
    """``customer_id, incident_id, exposed_at`` for every exposure that really happened."""
    ids = incidents.table["incident_id"].to_numpy()
    rows, inc, ts = [], [], []
    for j in range(len(incidents.rows)):
        keep = incidents.real[j] & (incidents.month[j] < cal.months)
        rows.append(incidents.rows[j][keep])
        inc.append(np.full(int(keep.sum()), j))
        ts.append(incidents.ts[j][keep])
    r = np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, np.int64)
    j = np.concatenate(inc).astype(np.int64) if inc else np.zeros(0, np.int64)
    t = np.concatenate(ts).astype(np.int64) if ts else np.zeros(0, np.int64)
    order = np.lexsort((r, j))
    return pd.DataFrame({
        "customer_id": strings(pop.ids, r[order]),
        "incident_id": strings(ids, j[order]),
        "exposed_at": to_datetime(t[order]),
    })


def episodes(cal: Calendar, exits: list[Episode], returns: list[Episode]) -> pd.DataFrame:
    """All exit episodes (see :func:`_episodes`); empty lists give an empty frame."""
    if not exits:
        return pd.DataFrame({"row": [], "exit_s": [], "cause": [], "return_s": []}, dtype=np.int64)
    return _episodes(cal, exits, returns)
