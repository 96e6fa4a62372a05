"""Reason codes (DESIGN §8): the top reasons per customer, from LightGBM's own feature
contributions, written as plain sentences from the templates in ``conf/reasons/``.

A feature becomes a reason only if it pushes the score up (contribution above
``min_contribution``), a template matches its name, and the template's condition holds
for the customer's value (so "spend down 62 %" is never said of a customer whose spend
rose). Templates with ``direction: down`` (strengths, e.g. "spend up 20 %") take the
features that pull the score down instead, and only fill the slots the risk reasons
leave empty: a low-risk customer on the list for an offer has few or no risk reasons.
Templates sharing an ``id`` are one reason (``spend_90d`` and ``spend_ratio_90d`` both
tell the spend-drop story): each customer gets it once, from the feature that
contributed most. A feature without a template is never shown, so an
internal column name can never reach a customer list.

Each template is written for one model (``model``: ``attrition`` by default, or
``winback``). The win-back model scores the chance a lapsed customer comes back, so a
feature pushing its score up is a reason they may return: it is said only through the
``winback`` templates, never in the attrition model's risk wording ("last survey score 2
out of 10" is a churn risk, not a reason to come back).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from churnml.errors import ConfigError

CONDITIONS = {"below": np.less, "above": np.greater, "at_least": np.greater_equal,
              "at_most": np.less_equal}
DERIVED = ("value", "pct_down", "pct_up", "s")
UP, DOWN = "up", "down"  # a template's direction: risk reasons, strengths
ATTRITION, WINBACK = "attrition", "winback"  # the model a template speaks for
ZERO_DECIMALS = re.compile(r"\.0[fF]$")  # a format spec that rounds to whole numbers


class Explainable(Protocol):
    """A model exposing per-feature contributions (e.g. ``ChurnClassifier``)."""

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame: ...


@dataclass(frozen=True)
class ReasonTemplate:
    """One sentence template; see ``conf/reasons/default.yaml`` for the fields."""

    id: str
    pattern: re.Pattern[str]
    text: str
    value: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    conditions: dict[str, float | str] = field(default_factory=dict)
    direction: str = UP
    model: str = ATTRITION


def compile_templates(entries: list[dict[str, Any]]) -> list[ReasonTemplate]:
    """Validate and compile the ``reasons.templates`` config entries.

    Raises
    ------
    ConfigError
        When a pattern is not a regular expression, a direction is not ``up`` or
        ``down``, a model is not ``attrition`` or ``winback`` (a ``winback`` template
        must be ``up``: the win-back model has no strengths), or a text uses a
        placeholder that is
        neither derived (``value, pct_down, pct_up, s``), a named group of the pattern, nor a
        key of ``columns`` - or uses attribute / index access.
    """
    out = []
    for entry in entries:
        try:
            pattern = re.compile(entry["features"])
        except (re.error, KeyError) as exc:
            raise ConfigError(f"reasons.templates {entry.get('id')!r}: bad `features` "
                              f"pattern ({exc})") from exc
        columns = dict(entry.get("columns") or {})
        allowed = {*DERIVED, *pattern.groupindex, *columns}
        for _, name, _, _ in string.Formatter().parse(entry["text"]):
            if name is not None and name not in allowed:
                raise ConfigError(f"reasons.templates {entry['id']!r}: placeholder {{{name}}} "
                                  f"is not one of {sorted(allowed)}")
        conditions = {k: entry[k] for k in CONDITIONS if k in entry}
        direction = str(entry.get("direction", UP))
        if direction not in (UP, DOWN):
            raise ConfigError(f"reasons.templates {entry['id']!r}: direction {direction!r} "
                              f"is not {UP!r} or {DOWN!r}")
        model = str(entry.get("model", ATTRITION))
        if model not in (ATTRITION, WINBACK):
            raise ConfigError(f"reasons.templates {entry['id']!r}: model {model!r} "
                              f"is not {ATTRITION!r} or {WINBACK!r}")
        if model == WINBACK and direction != UP:
            raise ConfigError(f"reasons.templates {entry['id']!r}: a {WINBACK!r} template "
                              f"must have direction {UP!r} (the win-back model has no "
                              f"strengths)")
        out.append(ReasonTemplate(str(entry["id"]), pattern, str(entry["text"]),
                                  entry.get("value"), columns, conditions, direction, model))
    return out


def _match(feature: str, templates: list[ReasonTemplate]) -> tuple[ReasonTemplate, dict] | None:
    for template in templates:
        found = template.pattern.fullmatch(feature)
        if found:
            return template, {k: v for k, v in found.groupdict().items() if v is not None}
    return None


def _column_name(pattern: str | None, groups: dict[str, str], default: str) -> str:
    """``pattern`` filled with the feature's groups, else ``default``."""
    return default if pattern is None else pattern.format(**groups)


def _column(data: pd.DataFrame, pattern: str | None, groups: dict[str, str],
            default: str) -> pd.Series | None:
    name = _column_name(pattern, groups, default)
    return pd.to_numeric(data[name], errors="coerce") if name in data else None


def _applies(template: ReasonTemplate, value: pd.Series, data: pd.DataFrame,
             groups: dict[str, str]) -> np.ndarray:
    """Rows whose value meets every condition of the template (missing never does)."""
    ok = value.notna().to_numpy().copy()
    for name, bound in template.conditions.items():
        if isinstance(bound, str):  # compare with another column, e.g. `below: prev`
            other = _column(data, template.columns.get(bound), groups, bound)
            if other is None:
                return np.zeros(len(value), dtype=bool)
            bound = other.to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            ok &= CONDITIONS[name](value.to_numpy(dtype="float64"), bound)
    return ok


def _quoted_column(feature: str, templates: list[ReasonTemplate]) -> str:
    """The column a reason from ``feature`` quotes as its value."""
    template, groups = _match(feature, templates)
    return _column_name(template.value, groups, feature)


def _candidates(contrib: pd.DataFrame, data: pd.DataFrame, templates: list[ReasonTemplate],
                min_contribution: float, quoted: list[np.ndarray] | None = None
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per template id: each row's best contribution (-inf if none) and its feature.

    ``templates`` share one direction; for ``down`` the contribution's sign is flipped
    (the feature pulling the score down hardest is the strongest strength). A feature
    is no candidate for the rows where it would quote a column ``quoted`` (the columns
    the reasons already given quote, per slot) holds: no "still buying: 8 purchases in
    the last 90 days" after "8 purchases in the last 90 days, down from 13"."""
    scores, chosen = {}, {}
    for feature in contrib.columns:
        matched = _match(feature, templates)
        if matched is None:
            continue
        template, groups = matched
        value = _column(data, template.value, groups, feature)
        if value is None:
            continue
        sign = -1.0 if template.direction == DOWN else 1.0
        push = sign * contrib[feature].to_numpy(dtype="float64")
        usable = (push > min_contribution) & _applies(template, value, data, groups)
        quotes = _column_name(template.value, groups, feature)
        for said in quoted or []:
            usable &= said != quotes
        score = np.where(usable, push, -np.inf)
        best = scores.get(template.id, np.full(len(contrib), -np.inf))
        better = score > best
        scores[template.id] = np.where(better, score, best)
        chosen[template.id] = np.where(better, feature, chosen.get(template.id))
    return (pd.DataFrame(scores, index=contrib.index),
            pd.DataFrame(chosen, index=contrib.index, dtype=object))


def format_values(values: np.ndarray, spec: str = "", conversion: str | None = None
                  ) -> np.ndarray:
    """``format(v, spec)`` (after ``!r``/``!s``/``!a`` if given) for every value, as an
    object array - formatted once per distinct value, not once per row.

    Floats are told apart by their bits (``-0.0`` is not ``0.0``); with a ``.0f`` spec
    they are first rounded to integers (``numpy.rint`` rounds half to even like
    ``format``), so a million spends take a few hundred distinct formats. Object
    columns that are not all text are formatted row by row.
    """
    values = np.asarray(values)
    convert = string.Formatter().convert_field

    def one(v: Any) -> str:
        return format(v if conversion is None else convert(v, conversion), spec)

    if values.dtype.kind == "f" and values.dtype.itemsize in (2, 4, 8):
        keys = np.rint(values) if ZERO_DECIMALS.search(spec) else values
        bits = keys.view(np.dtype(f"i{keys.dtype.itemsize}"))
        _, first, inverse = np.unique(bits, return_index=True, return_inverse=True)
        return np.array([one(v) for v in keys[first]], dtype=object)[inverse.ravel()]
    if values.dtype.kind in "iub" or pd.api.types.infer_dtype(values) == "string":
        codes, distinct = pd.factorize(values, use_na_sentinel=False)
        return np.array([one(v) for v in np.asarray(distinct, dtype=object)],
                        dtype=object)[codes]
    return np.array([one(v) for v in values], dtype=object)


def _render(feature: str, templates: list[ReasonTemplate], data: pd.DataFrame,
            rows: np.ndarray) -> np.ndarray:
    """The sentence for each of ``rows`` (positions in ``data``), built per placeholder
    with :func:`format_values` and joined as whole columns."""
    template, groups = _match(feature, templates)
    value = _column(data, template.value, groups, feature).iloc[rows].to_numpy(dtype="float64")
    fields = {"value": value, "pct_down": 100 * (1 - value), "pct_up": 100 * (value - 1),
              "s": np.where(np.rint(value) == 1, "", "s").astype(object),
              **{k: data[c.format(**groups)].iloc[rows].to_numpy()
                 for k, c in template.columns.items()}}
    parts = list(string.Formatter().parse(template.text))
    if any("{" in (spec or "") for _, _, spec, _ in parts):  # nested fields: row by row
        return np.array([template.text.format(**{**groups, **{k: v[i] for k, v in
                                                                 fields.items()}})
                         for i in range(len(rows))], dtype=object)
    out = np.full(len(rows), "", dtype=object)
    for literal, name, spec, conversion in parts:
        out = out + literal
        if name is None:
            continue
        if name in fields:
            out = out + format_values(fields[name], spec, conversion)
        else:  # a group of the pattern: the same for every row
            out = out + format(string.Formatter().convert_field(groups[name], conversion)
                               if conversion else groups[name], spec)
    return out


def _place(text: list[np.ndarray], quoted: list[np.ndarray], scores: pd.DataFrame,
           chosen: pd.DataFrame, compiled: list[ReasonTemplate], data: pd.DataFrame,
           filled: np.ndarray) -> np.ndarray:
    """Write each row's best reasons (by ``scores``) into the slots after its ``filled``
    ones, strongest first, and the column each quotes into ``quoted``; returns the
    number of slots filled per row afterwards."""
    if scores.empty:
        return filled
    values = scores.to_numpy()
    order = np.argsort(-values, axis=1, kind="stable")[:, :len(text)]
    out = filled.copy()
    for k in range(order.shape[1]):
        pick, slot = order[:, k], filled + k
        real = np.isfinite(values[np.arange(len(values)), pick]) & (slot < len(text))
        for j, template_id in enumerate(scores.columns):
            rows = np.flatnonzero(real & (pick == j))
            features = chosen[template_id].to_numpy()[rows]
            for feature in pd.unique(features):
                sel = rows[features == feature]
                for s in np.unique(slot[sel]):
                    at = sel[slot[sel] == s]
                    text[s][at] = _render(feature, compiled, data, at)
                    quoted[s][at] = _quoted_column(feature, compiled)
        out = out + real
    return out


def reason_codes(model: Explainable, X: pd.DataFrame, templates: list[ReasonTemplate] |
                 list[dict[str, Any]], top_k: int = 3, context: pd.DataFrame | None = None,
                 min_contribution: float = 0.0, strengths: bool = True,
                 kind: str = ATTRITION) -> pd.DataFrame:
    """The top ``top_k`` reasons per row, as sentences.

    Parameters
    ----------
    model
        Anything with ``contributions(X)`` returning one column per model feature (the
        LightGBM ``pred_contrib`` of :class:`~churnml.models.ChurnClassifier`).
    X
        The model's input rows (the feature columns the model was trained on).
    templates
        Compiled templates or the raw ``reasons.templates`` config list.
    context
        Optional extra columns (same index as ``X``) that templates may quote but the
        model does not use, e.g. ``shared_cause_incident``.
    min_contribution
        A feature must push the margin up (a strength: down) by more than this.
    strengths
        Fill the slots the risk reasons leave empty with the ``direction: down``
        templates (features pulling the score down); False ignores those templates.
    kind
        The model ``model`` scores, ``attrition`` or ``winback``: only the templates
        written for it are used (a feature raising ``p_winback`` is a reason to come
        back, never said in the attrition model's risk wording).

    Returns
    -------
    DataFrame
        ``reason_1 .. reason_<top_k>`` (strings, missing when fewer reasons apply):
        the risk reasons strongest first, then the strengths strongest first (none
        quoting a column a risk reason quotes), indexed like ``X``.
    """
    compiled = templates if templates and isinstance(templates[0], ReasonTemplate) \
        else compile_templates(list(templates))
    compiled = [t for t in compiled if t.model == kind]
    data = X if context is None else pd.concat(
        [X, context.loc[:, [c for c in context.columns if c not in X.columns]]], axis=1)
    contrib = model.contributions(X)
    names = [f"reason_{k + 1}" for k in range(top_k)]
    text = [np.full(len(X), None, dtype=object) for _ in names]
    quoted = [np.full(len(X), None, dtype=object) for _ in names]
    filled = np.zeros(len(X), dtype=np.int64)
    for direction in (UP, DOWN) if strengths else (UP,):
        chosen_templates = [t for t in compiled if t.direction == direction]
        scores, chosen = _candidates(contrib, data, chosen_templates, min_contribution, quoted)
        filled = _place(text, quoted, scores, chosen, chosen_templates, data, filled)
    return pd.DataFrame({n: pd.array(t, dtype="string") for n, t in zip(names, text, strict=True)},
                        index=X.index)
