"""Batch scoring on Spark: :func:`churnml.scoring.score_customers` per partition.

The feature rows stay on the cluster. Both models travel to the executors once, as
their JSON description (:meth:`ChurnClassifier.to_dict`) in a Spark broadcast
variable; each task rebuilds them and scores its Arrow batches with the same pandas
function as the one-machine path (``mapInPandas``), so probabilities, status, risk
band and value are computed by the same code. Only ``risk_percentile`` depends on
every row; it is computed on Spark with ``cume_dist`` and rounded as pandas rounds.

Segments, reason codes and offers (:mod:`churnml.stages.score_enrich`) are not
computed here: collect the result with :func:`collect_scored` and enrich it on the
driver. PySpark is imported only when these functions run (``churnml[spark]``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd

from churnml.errors import ConfigError
from churnml.models.classifier import ChurnClassifier
from churnml.scoring import SCORED_COLUMNS, score_customers

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)
PERCENTILE = "risk_percentile"
PER_ROW_COLUMNS = [c for c in SCORED_COLUMNS if c != PERCENTILE]
_TEXT = ("customer_id", "status", "risk_band", "attrition_model_version",
         "winback_model_version")
_NUMBERS = ("p_attrition", "p_winback", "value")


def _pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError as exc:
        raise ConfigError("scoring on Spark needs pyspark: pip install 'churnml[spark]'") from exc
    return pyspark.sql


def _per_row_schema(as_of_type: Any) -> Any:
    """The Spark schema of :data:`PER_ROW_COLUMNS`; ``as_of`` keeps the input's type."""
    types = _pyspark().types
    fields = {name: types.StringType() for name in _TEXT}
    fields.update({name: types.DoubleType() for name in _NUMBERS})
    fields["as_of"] = as_of_type
    return types.StructType([types.StructField(c, fields[c], True) for c in PER_ROW_COLUMNS])


def score_spark(features: DataFrame, attrition: ChurnClassifier, winback: ChurnClassifier,
                *, lapse_days: int, cfg: dict[str, Any],
                versions: dict[str, str], data_start: pd.Timestamp | None = None) -> DataFrame:
    """Score a Spark DataFrame of feature rows as :func:`score_customers` scores a frame.

    Parameters
    ----------
    features
        One row per customer for a single ``as_of``, with the columns
        :func:`score_customers` needs (``customer_id, as_of, recency_days,
        tenure_days, monetary, spend_<value_window_days>d``,
        ``days_since_first_purchase`` without ``data_start``, and every model
        feature, segment columns included when a model uses them).
    attrition, winback
        Fitted models; broadcast to the executors as JSON.
    lapse_days, cfg, versions, data_start
        As for :func:`score_customers`.

    Returns
    -------
    pyspark.sql.DataFrame
        The columns of :data:`SCORED_COLUMNS`, lazily evaluated, in no fixed order.

    Raises
    ------
    ValueError
        ``features`` holds more (or fewer) than one ``as_of``.
    """
    sql = _pyspark()
    if features.select("as_of").distinct().limit(2).count() != 1:
        raise ValueError("score one snapshot at a time")
    shared = features.sparkSession.sparkContext.broadcast(
        {"attrition": attrition.to_dict(), "winback": winback.to_dict()})
    cfg, versions = dict(cfg), dict(versions)

    def score_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        models = {kind: ChurnClassifier.from_dict(d) for kind, d in shared.value.items()}
        for batch in batches:
            if len(batch):
                yield score_customers(batch, models["attrition"], models["winback"],
                                      lapse_days=lapse_days, cfg=cfg, versions=versions,
                                      data_start=data_start)[PER_ROW_COLUMNS]

    scored = features.mapInPandas(score_batches, _per_row_schema(features.schema["as_of"].dataType))
    return with_risk_percentile(scored, sql)


def with_risk_percentile(scored: DataFrame, sql: Any = None) -> DataFrame:
    """Add ``risk_percentile`` over all rows, as pandas ``rank(pct=True, method="max")``
    times 100 rounded to 2 decimals (``rint(x * 100) / 100``, as numpy rounds);
    null where ``p_attrition`` is null."""
    sql = sql or _pyspark()
    functions = sql.functions
    scored_rows = functions.col("p_attrition").isNotNull()
    window = sql.Window.partitionBy(scored_rows).orderBy("p_attrition")
    percent = functions.cume_dist().over(window) * 100.0
    rounded = functions.rint(percent * 100.0) / 100.0
    return scored.withColumn(PERCENTILE, functions.when(scored_rows, rounded)) \
        .select(*SCORED_COLUMNS)


def collect_scored(scored: DataFrame) -> pd.DataFrame:
    """The scored rows on the driver, as :func:`score_customers` returns them.

    Returns
    -------
    DataFrame
        :data:`SCORED_COLUMNS` sorted by ``customer_id``; ``risk_band`` as a
        nullable string.
    """
    frame = scored.toPandas()
    frame["risk_band"] = frame["risk_band"].astype("string")
    log.info("collected %d scored rows from Spark", len(frame))
    return frame.sort_values("customer_id", kind="stable", ignore_index=True)[SCORED_COLUMNS]
