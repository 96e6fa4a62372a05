"""Reading the MLflow model registry: registered models by alias, checked for their kind.

The scoring job loads ``models:/NAME@ALIAS`` here. mlflow itself is imported by
:mod:`churnml.tracking` only (:func:`~churnml.tracking.mlflow_module`).
"""

from __future__ import annotations

import logging
from typing import Any

from churnml.errors import ConfigError
from churnml.models.classifier import ChurnClassifier
from churnml.tracking import KIND_TAG, MODEL_KINDS, mlflow_module, resolve_uri

log = logging.getLogger(__name__)


def load_registered(uri: str, cfg: dict[str, Any] | None = None,
                    kind: str | None = None) -> tuple[ChurnClassifier, str]:
    """Load a churnml model from ``models:/NAME@ALIAS`` (or any MLflow model URI).

    Returns the model and a version string (``NAME/VERSION`` for an alias, else the URI).
    The alias is resolved once, and that version (``models:/NAME/VERSION``) is the one
    loaded: a promotion moving the alias meanwhile cannot make the reported version
    differ from the model returned.

    Parameters
    ----------
    uri
        ``models:/NAME@ALIAS``, or another MLflow model URI (loaded as given, unchecked).
    cfg
        The ``tracking`` config section (tracking URI; the registered names per kind).
    kind
        The kind of model the caller needs (``attrition``, ``winback``); with an alias
        and ``cfg``, a registered version of another kind is refused (see
        :func:`registered_kind`).

    Raises
    ------
    ConfigError
        No registered model ``NAME``, no alias ``ALIAS`` on it (the message lists the
        aliases and versions that exist), or a model of another kind than ``kind``.
    """
    mlflow = mlflow_module()
    if cfg is not None:
        mlflow.set_tracking_uri(resolve_uri(cfg))
    version = load_uri = uri
    if uri.startswith("models:/") and "@" in uri:
        name, alias = uri[len("models:/"):].split("@", 1)
        client = mlflow.MlflowClient()
        mv = _version_by_alias(client, uri, name, alias)
        if kind is not None and cfg is not None:
            _check_kind(client, uri, mv, kind, cfg)
        version, load_uri = f"{name}/{mv.version}", f"models:/{name}/{mv.version}"
    pyfunc = mlflow.pyfunc.load_model(load_uri)
    log.debug("loaded %s (run %s)", version, pyfunc.metadata.run_id)
    return pyfunc.unwrap_python_model().model, version


def _not_found(exc: Exception) -> bool:
    """Whether an MlflowException says the thing asked for does not exist."""
    return getattr(exc, "error_code", None) == "RESOURCE_DOES_NOT_EXIST"


def _version_by_alias(client: Any, uri: str, name: str, alias: str) -> Any:
    """The model version ``alias`` points at, read once from the registered model.

    Raises
    ------
    ConfigError
        Naming the URI and the registry when there is no model ``name`` (listing the
        registered names) or it has no alias ``alias`` (listing its aliases and versions).
    """
    where = f"in the model registry at {mlflow_module().get_tracking_uri()}"
    try:
        registered = client.get_registered_model(name)
    except mlflow_module().exceptions.MlflowException as exc:
        if not _not_found(exc):
            raise
        names = sorted(m.name for m in client.search_registered_models(max_results=50))
        raise ConfigError(f"--model {uri}: no registered model named {name!r} {where} "
                          f"(registered models: {', '.join(names) or 'none'})") from exc
    aliases = dict(registered.aliases or {})
    if alias not in aliases:
        known = ", ".join(f"{a} -> version {v}" for a, v in sorted(aliases.items()))
        raise ConfigError(f"--model {uri}: registered model {name!r} has no alias {alias!r} "
                          f"{where} (aliases: {known or 'none'}; versions: "
                          f"{_version_list(client, name)}); use models:/{name}@ALIAS")
    return client.get_model_version(name, str(aliases[alias]))


def _version_list(client: Any, name: str) -> str:
    """The version numbers of registered model ``name``, e.g. ``1, 2, 3`` (or ``none``)."""
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name='{name}'"))
    return ", ".join(map(str, versions)) or "none"


def registered_kind(client: Any, mv: Any, cfg: dict[str, Any]) -> tuple[str | None, str]:
    """Which kind of model a registered version holds, and how that is known.

    The kind is the ``model_kind`` tag that the train stage sets on its run (recorded at
    training time, on every run since the first release). A version without a readable
    run or tag (its run deleted, or registered by hand) is judged by its registered
    name, compared with ``tracking.<kind>_model_name``; None when that matches no kind.
    """
    try:
        tagged = client.get_run(mv.run_id).data.tags.get(KIND_TAG) if mv.run_id else None
    except mlflow_module().exceptions.MlflowException:
        tagged = None
    if tagged:
        return tagged, f"its training run's {KIND_TAG} tag"
    by_name = {cfg.get(f"{k}_model_name"): k for k in MODEL_KINDS}
    return by_name.get(mv.name), (f"its registered name (its training run has no {KIND_TAG} "
                                  "tag), compared with tracking.<kind>_model_name")


def _check_kind(client: Any, uri: str, mv: Any, kind: str, cfg: dict[str, Any]) -> None:
    """Refuse a registered version that is not a ``kind`` model (ConfigError)."""
    held, source = registered_kind(client, mv, cfg)
    if held == kind:
        if source.startswith("its registered name"):
            log.info("%s/%s: taken as the %s model by %s", mv.name, mv.version, kind, source)
        return
    expected = cfg.get(f"{kind}_model_name", "NAME")
    article = "an" if held and held[0] in "aeiou" else "a"
    holds = f"{article} {held} model" if held else "a model of unknown kind"
    raise ConfigError(f"--model {uri}: version {mv.version} of {mv.name!r} is {holds} (by "
                      f"{source}), but the {kind} model is expected here: pass "
                      f"models:/{expected}@{uri.rsplit('@', 1)[-1]}")
