"""Tiny hand-built canonical tables for the segments and reason-code tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA_START = pd.Timestamp("2023-01-01")
AS_OF = pd.Timestamp("2024-07-01")


def default_cfg(group: str = "segments") -> dict[str, Any]:
    """A fresh copy of ``conf/<group>/default.yaml``."""
    text = (ROOT / "conf" / group / "default.yaml").read_text(encoding="utf-8")
    return copy.deepcopy(yaml.safe_load(text))


def ts(day: str) -> pd.Timestamp:
    return pd.Timestamp(day)


def customers(*ids: str, signup: str = "2023-01-01", **attributes: list) -> pd.DataFrame:
    frame = pd.DataFrame({"customer_id": list(ids),
                          "signup_date": pd.to_datetime([signup] * len(ids)).astype(
                              "datetime64[us]")})
    for name, values in attributes.items():
        frame[name] = values
    return frame


def transactions(rows: list[tuple], **extra: list) -> pd.DataFrame:
    """``rows`` of ``(customer_id, day, amount)`` or ``(customer_id, day, amount, is_return)``."""
    full = [(*r, False) if len(r) == 3 else r for r in rows]
    frame = pd.DataFrame(full, columns=["customer_id", "ts", "amount", "is_return"])
    frame["ts"] = pd.to_datetime(frame["ts"]).astype("datetime64[us]")
    frame["discount"] = 0.0
    for name, values in extra.items():
        frame[name] = values
    return frame


def monthly_purchases(customer_id: str, start: str, months: int, per_month: int = 1,
                      amount: float = 50.0) -> list[tuple]:
    """``per_month`` purchases on days 3, 13, 23 ... of each month from ``start``."""
    rows = []
    for m in range(months):
        first = pd.Timestamp(start) + pd.DateOffset(months=m)
        rows += [(customer_id, str((first + pd.Timedelta(days=3 + 9 * k)).date()), amount)
                 for k in range(per_month)]
    return rows


def events(rows: list[tuple], **extra: list) -> pd.DataFrame:
    """``rows`` of ``(customer_id, day, event_type)``; extra columns by keyword."""
    frame = pd.DataFrame(rows, columns=["customer_id", "ts", "event_type"])
    frame["ts"] = pd.to_datetime(frame["ts"]).astype("datetime64[us]")
    for name, values in extra.items():
        frame[name] = values
    return frame


def incidents(rows: list[tuple], **extra: list) -> pd.DataFrame:
    """``rows`` of ``(incident_id, start, end, scope)``."""
    frame = pd.DataFrame(rows, columns=["incident_id", "start", "end", "scope"])
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    for name, values in extra.items():
        frame[name] = values
    return frame
