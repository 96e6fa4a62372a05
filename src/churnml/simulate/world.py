"""Assemble the synthetic world: canonical tables plus ground truth.

The truth tables are returned apart from the observable ones and are read only by
evaluation code (``tests/test_truth_isolation.py`` enforces it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from churnml.simulate import truth
from churnml.simulate.activity import Shopping
from churnml.simulate.assemble import events_table, time_order, transactions_table
from churnml.simulate.events import Chatter
from churnml.simulate.lifecycle import Lifecycle
from churnml.simulate.population import customers_table, draw_population
from churnml.simulate.shocks import draw_shocks
from churnml.simulate.spec import make_calendar, random_streams

log = logging.getLogger(__name__)

OBSERVABLE_TABLES = ("customers", "transactions", "events", "incidents", "campaigns")


@dataclass
class World:
    """Observable canonical tables and the ground truth behind them.

    Attributes
    ----------
    tables
        ``customers, transactions, events, incidents, campaigns`` (DESIGN §4).
    truth_customers, truth_uplift
        ``truth/customers`` and ``truth/uplift`` (DESIGN §5).
    end
        First instant after the simulated period.
    truth_extra
        Further truth tables: ``exits`` (every exit episode) and ``exposures``.
    """

    tables: dict[str, pd.DataFrame]
    truth_customers: pd.DataFrame
    truth_uplift: pd.DataFrame
    end: pd.Timestamp
    truth_extra: dict[str, pd.DataFrame] = field(default_factory=dict)


def simulate_world(cfg: dict[str, Any]) -> World:
    """Generate a seeded world from the ``data.world`` config section.

    Parameters
    ----------
    cfg
        Sizes, seed and mechanism strengths; see ``conf/data/synthetic.yaml`` and
        ``docs/synthetic_world.md``.

    Returns
    -------
    World
        The same ``cfg`` (seed included) gives identical tables.
    """
    rng = random_streams(int(cfg["seed"]))
    cal = make_calendar(str(cfg["start"]), int(cfg["months"]))
    pop = draw_population(rng["population"], cfg, cal)
    shocks = draw_shocks(rng["shocks"], cfg, pop, cal)
    life = Lifecycle(rng["lifecycle"], rng["campaigns"], cfg, pop, shocks, cal)
    shop = Shopping(rng["transactions"], cfg, pop, shocks, cal, life.book, life.state)
    chatter = Chatter(rng["events"], cfg, pop, shocks, life.state.advocate)
    sales, talk = [], []
    for month in range(cal.months):
        state = life.step(month)
        sales.append(shop.month(state))
        talk.append(chatter.month(state, life.hazard.burn_weight(month)))
        log.debug("month %d: %d lines, %d events", month, len(sales[-1]["ts"]),
                  len(talk[-1]["ts"]))
    catalogue = cfg["catalogue"]
    tables = {
        "customers": customers_table(rng["population"], cfg, pop),
        "transactions": transactions_table(time_order(sales), pop,
                                           catalogue["categories"],
                                           int(catalogue["products_per_category"])),
    }
    del sales
    tables["events"] = events_table(time_order(talk), pop, shocks.incidents)
    tables["incidents"] = shocks.incidents.table
    tables["campaigns"] = life.campaigns.log.table(pop, cal, life.book)
    episodes = truth.episodes(cal, life.exits, life.returns)
    log.info("simulated %d customers over %d months: %d transactions, %d events, "
             "%d campaign records, %d exits", len(pop), cal.months, len(tables["transactions"]),
             len(tables["events"]), len(tables["campaigns"]), len(episodes))
    return World(
        tables=tables,
        truth_customers=truth.customers_truth(cfg, pop, life.state, episodes),
        truth_uplift=life.campaigns.log.truth(pop, life.book),
        end=cal.end,
        truth_extra={"exits": truth.exits_table(pop, episodes),
                     "exposures": truth.exposures_table(pop, shocks.incidents, cal)},
    )
