"""Turn the generators' monthly column chunks into the canonical ``transactions`` and
``events`` tables, sorted by time, with text columns built in Arrow (fast at 10^7 rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from churnml.simulate.population import Population
from churnml.simulate.shocks import Incidents, product_name
from churnml.simulate.spec import EVENT_CODE, EVENT_TYPES, strings, to_datetime

ROW_BITS = 24  # sort key = ts << ROW_BITS | row, unique while customers < 2**24
COMPLAINT_TEXT = ": not happy with the service."


def time_order(chunks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate chunks and sort them by (time, customer).

    Chunks are emptied column by column as they are consumed, to bound peak memory.
    """
    if max((int(c["rows"].max()) for c in chunks if len(c["rows"])), default=0) >= 2**ROW_BITS:
        raise ValueError(f"the generator sorts at most {2**ROW_BITS} customers")
    key = np.concatenate([c["ts"] for c in chunks])
    key <<= ROW_BITS
    for start, chunk in zip(np.cumsum([0, *(len(c["ts"]) for c in chunks[:-1])]), chunks,
                            strict=True):
        key[start:start + len(chunk["rows"])] |= chunk["rows"]
    order = np.argsort(key)
    del key
    out = {}
    for name in list(chunks[0]):
        column = np.concatenate([c.pop(name) for c in chunks])
        out[name] = column[order]
        del column
    return out


def transactions_table(cols: dict[str, np.ndarray], pop: Population, categories: Sequence[str],
                       per_category: int) -> pd.DataFrame:
    """The canonical ``transactions`` table (``cols`` is emptied on the way)."""
    n_products = per_category * len(categories)
    product = cols.pop("product")
    frame = {
        "customer_id": strings(pop.ids, cols.pop("rows")),
        "ts": to_datetime(cols.pop("ts"), inplace=True),
        "amount": cols.pop("cents") / 100.0,
        "category": strings(categories, product // per_category),
        "product_id": strings(product_name(np.arange(n_products)), product),
        "discount": cols.pop("discount_cents") / 100.0,
        "is_return": cols.pop("is_return"),
    }
    return pd.DataFrame(frame, copy=False)


def events_table(cols: dict[str, np.ndarray], pop: Population,
                 incidents: Incidents) -> pd.DataFrame:
    """The canonical ``events`` table; complaints carry free text naming the customer."""
    names = [*incidents.table["incident_id"], None]
    incident = strings(names, np.where(cols["incident"] >= 0, cols["incident"], len(names) - 1))
    complaint = np.isin(cols["code"], (EVENT_CODE["complaint"], EVENT_CODE["public_complaint"]))
    said = np.flatnonzero(complaint)
    text = pd.Series(np.nan, index=range(len(cols["rows"])), dtype="str")
    words = np.strings.add(np.strings.add("Complaint from ", pop.names[cols["rows"][said]]),
                           COMPLAINT_TEXT)
    text.iloc[said] = words
    return pd.DataFrame({
        "customer_id": strings(pop.ids, cols["rows"]),
        "ts": to_datetime(cols["ts"], inplace=True),
        "event_type": strings(EVENT_TYPES, cols["code"].astype(np.int64)),
        "value": cols["value"].astype(np.float64),
        "incident_id": incident,
        "severity": cols["severity"].astype(np.float64),
        "text": text,
    }, copy=False)
