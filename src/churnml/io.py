"""The only place that writes files: atomic Parquet/CSV/JSON writes, hashes, manifests.

Every write goes to a temporary file in the destination folder, is flushed and
fsync'ed, then renamed over the target, so a crash leaves the old file or the new
one, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from churnml.csv_text import csv_bytes

CSV_INJECTION_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@contextlib.contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_temp_file(target)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _new_temp_file(target: Path, attempts: int = 100) -> Path:
    """Create an empty ``.<name>.<random>.tmp`` beside ``target``.

    Created with mode 0o666 so that the user's umask decides the final permissions,
    as for any file they write (``tempfile.mkstemp`` makes 0o600 files, which left the
    scored lists unreadable to the group that picks them up).
    """
    for _ in range(attempts):
        tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"no free temporary name for {target} after {attempts} tries")


def sweep_temp_files(folder: Path | str, names: list[str] | tuple[str, ...]) -> list[Path]:
    """Delete the temp files :func:`atomic_path` left for ``names`` in ``folder`` when a
    run was killed (``kill -9`` skips the clean-up); return them."""
    folder = Path(folder)
    stale = sorted(p for name in names for p in folder.glob(f".{name}.*.tmp") if p.is_file())
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_parquet(df: pd.DataFrame, path: Path | str) -> Path:
    """Write ``df`` (index dropped) to Parquet atomically, with byte-stable output."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", write_statistics=True)
    return Path(path)


def read_parquet(path: Path | str) -> pd.DataFrame:
    """Read a Parquet file written by :func:`write_parquet`."""
    return pd.read_parquet(path)


def neutralise_csv_injection(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells cannot be run as spreadsheet formulas.

    A cell starting with ``= + - @`` (or tab / carriage return) gets a leading quote,
    the OWASP recommendation for CSV files opened in Excel or a CRM.
    """
    out = df.copy()
    for column in out.columns:
        if pd.api.types.is_string_dtype(out[column]) or out[column].dtype == object:
            text = out[column]
            risky = text.astype("string").str.startswith(CSV_INJECTION_PREFIXES).fillna(False)
            if risky.any():
                out[column] = text.where(~risky, "'" + text.astype("string"))
    return out


def write_csv(df: pd.DataFrame, path: Path | str) -> Path:
    """Write ``df`` as UTF-8 CSV atomically, with formula injection neutralised."""
    data = csv_bytes(neutralise_csv_injection(df), float_format="%.10g")  # = to_csv's bytes
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def json_ready(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float (in nested dicts, lists, tuples) as None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: json_ready(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_ready(value) for value in obj]
    return obj


def write_json(obj: Any, path: Path | str, *, undefined_as_null: bool = False) -> Path:
    """Write ``obj`` as indented, key-sorted JSON atomically.

    With ``undefined_as_null``, NaN and infinite floats are written as ``null`` (standard
    JSON, for metrics files that other tools read; see :func:`json_ready`).
    """
    data = json_ready(obj) if undefined_as_null else obj
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", "utf-8")
    return Path(path)


def write_text(text: str, path: Path | str) -> Path:
    """Write text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_figure(fig: Any, path: Path | str, dpi: int = 110) -> Path:
    """Save a matplotlib figure as PNG atomically, without version metadata."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    return Path(path)


def read_json(path: Path | str) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_tree(folder: Path | str, pattern: str = "*.parquet") -> dict[str, str]:
    """Map each file matching ``pattern`` directly in ``folder`` to its sha256."""
    return {p.name: sha256_file(p) for p in sorted(Path(folder).glob(pattern))}


def write_manifest(path: Path | str, outputs: list[Path], **fields: Any) -> dict[str, Any]:
    """Write a manifest (written last) listing each output's rows and sha256.

    Parameters
    ----------
    path
        Where the manifest goes, usually ``<out_dir>/manifest.json``.
    outputs
        Files already written; each is hashed.
    **fields
        Extra entries (input hashes, model versions, row counts, ...).
    """
    manifest = {
        "outputs": {Path(p).name: {"sha256": sha256_file(p), "bytes": Path(p).stat().st_size}
                    for p in outputs},
        **fields,
    }
    write_json(manifest, path)
    return manifest
