"""Sources: the generic column mapping, the adapters on tiny files, the source stage."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from churnml import sources
from churnml.cli import main
from churnml.errors import ConfigError, ContractError
from churnml.ingest import ingest_tables
from churnml.stages import ingest as ingest_stage
from churnml.stages import source as source_stage

CFG = {"pii_columns": ["name", "email"], "quarantine_tolerance": 0.02,
       "quarantine_tolerance_by_table": {}, "default_timezone": "UTC",
       "extra_event_types": ["order_cancellation"]}


def _files(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text)
    return folder


def _mapped_cfg(folder: Path, **tables) -> dict:
    return {"name": "mine", "source": "mapped", "mode": "events", "raw_dir": "raw",
            "input_dir": str(folder), "timezone": "Europe/Berlin", "tables": tables}


SHOP = {
    "kunden__csv": "Nr;Seit;Tarif;Email\n1;31.01.2024;basic;a@b.c\n2;01.02.2024;plus;d@e.f\n",
    "orders__csv": "Nr;Zeit;Summe;Art\n1;05.02.2024 10:00;9.5;Kauf\n2;06.02.2024 11:00;3;"
                   "Storno\n",
}
CUSTOMERS = {"file": "kunden.csv", "read": {"sep": ";"},
             "columns": {"customer_id": "Nr", "signup_date": "Seit", "plan": "Tarif"},
             "date_formats": {"signup_date": "%d.%m.%Y"}}
ORDERS = {"file": "orders.csv", "read": {"sep": ";"},
          "columns": {"customer_id": "Nr", "ts": "Zeit", "amount": "Summe", "is_return": "Art"},
          "values": {"is_return": {"Kauf": "false", "Storno": "true"}},
          "date_formats": {"ts": "%d.%m.%Y %H:%M"}}


def test_mapping_renames_recodes_and_keeps_only_mapped_columns(tmp_path):
    folder = _files(tmp_path / "in", **SHOP)
    raw = sources.load(_mapped_cfg(folder, customers=CUSTOMERS, transactions=ORDERS), tmp_path)
    assert list(raw.tables["customers"].columns) == ["customer_id", "signup_date", "plan",
                                                     "_source_row"]
    assert raw.tables["transactions"]["is_return"].tolist() == ["false", "true"]
    result = ingest_tables(raw.tables, raw.specs, CFG)
    tx = result.tables["transactions"]
    assert tx["ts"].tolist() == [pd.Timestamp("2024-02-05 09:00"), pd.Timestamp("2024-02-06 10:00")]
    assert tx["is_return"].tolist() == [False, True]


def test_a_mapped_column_missing_from_the_file_suggests_close_names(tmp_path):
    folder = _files(tmp_path / "in", **SHOP)
    wrong = {**ORDERS, "columns": {**ORDERS["columns"], "ts": "Zeitt"}}
    with pytest.raises(ContractError) as err:
        sources.load(_mapped_cfg(folder, customers=CUSTOMERS, transactions=wrong), tmp_path)
    assert err.value.column == "Zeitt" and "'ts'" in str(err.value)
    assert err.value.examples == ["Zeit"] and err.value.file.endswith("orders.csv")


def test_a_required_column_neither_mapped_nor_present_is_named(tmp_path):
    folder = _files(tmp_path / "in", **SHOP)
    partial = {**ORDERS, "columns": {"customer_id": "Nr", "ts": "Zeit"}}
    with pytest.raises(ContractError, match="'amount'"):
        sources.load(_mapped_cfg(folder, customers=CUSTOMERS, transactions=partial), tmp_path)


def test_several_files_are_joined_on_a_key_without_changing_the_row_count(tmp_path):
    folder = _files(tmp_path / "in", a__csv="id,since\nx,2024-01-01\ny,2024-01-02\n",
                    b__csv="id,plan\ny,plus\nx,basic\nz,gold\n")
    table = {"file": ["a.csv", "b.csv"], "join_on": "id",
             "columns": {"customer_id": "id", "signup_date": "since", "plan": "plan"}}
    raw = sources.load(_mapped_cfg(folder, customers=table), tmp_path)
    assert raw.tables["customers"][["customer_id", "plan"]].values.tolist() == [
        ["x", "basic"], ["y", "plus"]]
    _files(folder, b__csv="id,plan\ny,plus\ny,gold\n")
    with pytest.raises(ContractError, match="duplicate key in a joined file"):
        sources.load(_mapped_cfg(folder, customers=table), tmp_path)


def test_joined_files_match_keys_as_ids_and_never_empty_to_empty(tmp_path, caplog):
    # A Parquet integer key meets the same key written as text, and keyless rows of the
    # later file (which pandas matched to keyless rows of the first) join nothing.
    folder = _files(tmp_path / "in", a__csv="id,since\n1,2024-01-01\n2,2024-01-02\n"
                                            ",2024-01-03\n",
                    b__csv="id,plan\n,gold\n,silver\n1,basic\n 2 ,plus\n")
    pd.DataFrame({"id": [1, 2], "since": ["2024-01-01", "2024-01-02"]}).to_parquet(
        folder / "a.parquet")
    for first in ("a.csv", "a.parquet"):
        table = {"file": [first, "b.csv"], "join_on": "id",
                 "columns": {"customer_id": "id", "signup_date": "since", "plan": "plan"}}
        with caplog.at_level("WARNING"):
            raw = sources.load(_mapped_cfg(folder, customers=table), tmp_path)
        plans = raw.tables["customers"]["plan"].tolist()
        assert plans[:2] == ["basic", "plus"] and all(pd.isna(p) for p in plans[2:])
    assert "2 rows without a 'id' value cannot be joined" in caplog.text


def test_unknown_source_and_missing_input_folder_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="choose one of"):
        sources.load({"source": "nope"}, tmp_path)
    with pytest.raises(ConfigError, match="does not exist") as err:
        sources.load(_mapped_cfg(tmp_path / "absent", customers=CUSTOMERS), tmp_path)
    assert str(tmp_path / "absent") in str(err.value)


def test_source_stage_writes_a_self_describing_raw_folder(tmp_path):
    folder = _files(tmp_path / "in", **SHOP)
    cfg = _mapped_cfg(folder, customers=CUSTOMERS, transactions=ORDERS)
    raw_dir = tmp_path / "raw"
    (raw_dir).mkdir()
    (raw_dir / "manifest.json").write_text("{}")
    (raw_dir / "events.parquet").write_text("stale")  # left by an earlier run: removed
    manifest = source_stage.run(cfg, raw_dir, tmp_path)
    assert manifest["rows"] == {"customers": 2, "transactions": 2}
    assert not (raw_dir / "events.parquet").exists()
    desc = json.loads((raw_dir / "source.json").read_text())
    assert desc["tables"]["transactions"]["columns"]["ts"] == "Zeit"
    assert "Email" not in pd.read_parquet(raw_dir / "customers.parquet").columns
    result = ingest_stage.check(raw_dir, CFG)  # parses with the recorded formats
    assert result.tables["customers"]["signup_date"].tolist() == [
        pd.Timestamp("2024-01-30 23:00"), pd.Timestamp("2024-01-31 23:00")]
    assert result.files["transactions"].endswith("in/orders.csv")


def test_ingest_messages_name_the_users_file_and_column(tmp_path):
    folder = _files(tmp_path / "in", **{**SHOP, "orders__csv": "Nr;Zeit;Summe;Art\n"
                                        "1;2024-02-05;9.5;Kauf\n"})
    raw_dir = tmp_path / "raw"
    source_stage.run(_mapped_cfg(folder, customers=CUSTOMERS, transactions=ORDERS), raw_dir,
                     tmp_path)
    with pytest.raises(ContractError) as err:
        ingest_stage.check(raw_dir, CFG)
    assert "orders.csv" in str(err.value) and "'Zeit -> ts'" in str(err.value)
    assert "2024-02-05" in str(err.value)


def test_source_stage_refuses_to_overwrite_the_input_folder(tmp_path):
    folder = _files(tmp_path / "in", **SHOP)
    with pytest.raises(ConfigError, match="same folder"):
        source_stage.run(_mapped_cfg(folder, customers=CUSTOMERS), folder, tmp_path)


def test_source_command_exits_2_naming_a_missing_input_folder(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"data": _mapped_cfg(Path("no/such/dir"),
                                                          customers=CUSTOMERS)}))
    assert main(["--params", str(params), "source", "--out", str(tmp_path / "raw")]) == 2
    err = capsys.readouterr().err
    assert "no/such/dir" in err and "Traceback" not in err


def test_source_stage_runs_the_synthetic_world(tmp_path, project_root):
    params = yaml.safe_load((project_root / "params.yaml").read_text())["data"]
    params["world"] = {**params["world"], "customers": 150, "months": 8}
    manifest = source_stage.run(params, tmp_path / "raw", project_root)
    assert (tmp_path / "raw" / "truth").is_dir() and manifest
    desc = json.loads((tmp_path / "raw" / "source.json").read_text())
    assert desc["source"] == "synthetic" and "customers" in desc["tables"]
    result = ingest_stage.check(tmp_path / "raw", CFG)
    assert result.counts["customers"]["rows_kept"] == 150


def test_dvc_source_stage_declares_what_it_reads_and_templated_paths(project_root):
    from churnml.stages import declared_params

    stages = yaml.safe_load((project_root / "dvc.yaml").read_text())["stages"]
    assert "simulate" not in stages
    assert stages["source"]["cmd"] == "churnml source"
    assert sorted(stages["source"]["params"]) == sorted(declared_params(["source"]))
    assert stages["source"]["outs"] == ["${data.raw_dir}"]
    assert "${data.input_dir}" in stages["source"]["deps"]
    assert "${data.raw_dir}" in stages["ingest"]["deps"]


@pytest.mark.parametrize("name", ["synthetic", "online_retail", "telco", "hillstrom",
                                  "completejourney", "csv"])
def test_every_data_config_composes_with_the_keys_stages_declare(project_root, name):
    from churnml import config

    params = config.compose(project_root / "conf", [f"data={name}"])
    for key in ("name", "source", "mode", "raw_dir", "input_dir", "snapshot"):
        assert key in params["data"], f"data.{key} missing for {name}"
    assert params["data"]["mode"] in ("events", "snapshot")
    assert params["data"]["raw_dir"].startswith("data/raw/")


def test_a_wrong_separator_is_pointed_out(tmp_path):
    folder = _files(tmp_path / "in", **SHOP)
    comma = {**ORDERS, "read": {"sep": ","}}
    with pytest.raises(ContractError, match=r"read\.sep"):
        sources.load(_mapped_cfg(folder, customers=CUSTOMERS, transactions=comma), tmp_path)
