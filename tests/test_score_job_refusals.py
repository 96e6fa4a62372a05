"""Mistakes in the scoring job's inputs are refused with exit code 2 (fast, no CLI; the
CLI cases are in test_score_job_cli.py): a ``--data`` folder that is not an ingest output."""

from __future__ import annotations

import pandas as pd
import pytest

from churnml import io
from churnml.errors import ConfigError
from churnml.stages.features import data_window


def test_a_folder_that_is_not_an_ingest_output_is_refused(tmp_path):
    io.write_json({"end": "2025-07-01T00:00:00", "outputs": {}}, tmp_path / "manifest.json")
    with pytest.raises(ConfigError, match=r"is not an ingest output: its manifest\.json has "
                       r"no data_start.*run `churnml ingest --data "):
        data_window(tmp_path)


def test_an_ingest_output_gives_its_window(tmp_path):
    io.write_json({"data_start": "2023-01-01T00:00:00", "data_end": "2025-07-01T00:00:00"},
                  tmp_path / "manifest.json")
    assert data_window(tmp_path) == (pd.Timestamp("2023-01-01"), pd.Timestamp("2025-07-01"))
