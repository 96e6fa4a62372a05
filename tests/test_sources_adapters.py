"""The real-data adapters on tiny hand-written files shaped like the real ones."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from churnml import config, sources
from churnml.ingest import ingest_tables

CFG = {"pii_columns": ["name", "email"], "quarantine_tolerance": 0.02,
       "quarantine_tolerance_by_table": {}, "default_timezone": "UTC",
       "extra_event_types": ["order_cancellation"]}


def _data_cfg(project_root: Path, name: str, folder: Path) -> dict:
    params = config.compose(project_root / "conf", [f"data={name}"])
    return {**params["data"], "input_dir": str(folder)}


RETAIL = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
536370,22728,ALARM CLOCK,24,2010-12-01 08:45:00,3.75,12583.0,France
C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,17850.0,United Kingdom
C536383,35004C,SET OF 3 TINS,-1,2010-12-01 09:49:00,4.65,17850.0,United Kingdom
536414,22139,,56,2010-12-01 11:52:00,0,,United Kingdom
536500,22139,BOX,abc,2010-12-02 11:52:00,2.5,12583.0,Germany
536501,22139,BOX,2,2010-12-03 11:52:00,2.5,12583.0,France
"""


def test_online_retail_lines_become_transactions_returns_events_and_customers(tmp_path,
                                                                             project_root):
    folder = tmp_path / "online_retail"
    folder.mkdir()
    with gzip.open(folder / "online_retail_2010_2011.csv.gz", "wt") as handle:
        handle.write(RETAIL)
    raw = sources.load(_data_cfg(project_root, "online_retail", folder), tmp_path)
    customers = raw.tables["customers"].set_index("customer_id")
    assert sorted(customers.index) == ["12583", "17850"]  # ".0" gone, blank id not a customer
    assert customers.loc["12583", "region"] == "France"  # most frequent country
    assert customers.loc["17850", "signup_date"] == "2010-12-01 08:26:00"
    tx = raw.tables["transactions"]
    assert len(tx) == 8 and tx["is_return"].tolist().count("true") == 2
    assert tx["amount"].iloc[0] == "15.3"
    events = raw.tables["events"]
    assert events["event_type"].tolist() == ["order_cancellation"] * 2
    assert events["value"].tolist() == ["27.5", "4.65"]
    result = ingest_tables(raw.tables, raw.specs, CFG)
    quarantine = result.quarantine.set_index("rule")
    assert quarantine.loc["missing_customer_id", "source_row"] == 6  # kept, not dropped
    assert quarantine.loc["unparseable_amount", "value"] == "Quantity=abc UnitPrice=2.5"
    assert result.counts["transactions"] == {"rows_in": 8, "rows_kept": 6, "rows_quarantined": 2}
    kept = result.tables["transactions"]
    assert kept.loc[kept["is_return"], "amount"].tolist() == [-27.5, -4.65]
    # InvoiceDate is UK time: 08:26 GMT in December
    assert kept["ts"].iloc[0] == pd.Timestamp("2010-12-01 08:26")


TELCO = {
    "telco_status.csv": "Status ID,Customer ID,Count,Quarter,Satisfaction Score,Customer Status,"
                        "Churn Label,Churn Value,Churn Score,CLTV,Churn Category,Churn Reason\n"
                        "S1,A-1,1,Q3,1,Churned,Yes,1,91,5433,Competitor,Better offer\n"
                        "S2,B-2,1,Q3,5,Stayed,No,0,20,4000,,\n"
                        "S3,C-3,1,Q3,4,Joined,No,0,10,3000,,\n",
    "telco_services.csv": "Customer ID,Tenure in Months,Total Revenue,Contract,Monthly Charge\n"
                          "B-2,12,1200.5,One Year,99.5\nA-1,1,59.65,Month-to-Month,39.65\n"
                          "C-3,abc,10,Month-to-Month,10\n",
    "telco_demographics.csv": "Customer ID,Gender,Age,Married\nA-1,Male,78,No\nB-2,Female,40,Yes\n"
                              "C-3,Male,30,No\n",
}


def test_telco_joins_three_files_into_one_labelled_customers_table(tmp_path, project_root):
    folder = tmp_path / "telco"
    folder.mkdir()
    for name, text in TELCO.items():
        (folder / name).write_text(text)
    cfg = _data_cfg(project_root, "telco", folder)
    cfg["tables"]["customers"]["columns"] = {
        "customer_id": "Customer ID", "churned": "Churn Value", "churn_category": "Churn Category",
        "tenure_months": "Tenure in Months", "monetary": "Total Revenue", "contract": "Contract",
        "monthly_charge": "Monthly Charge", "age": "Age", "married": "Married"}
    raw = sources.load(cfg, tmp_path)
    assert raw.mode == "snapshot" and list(raw.tables) == ["customers"]
    customers = raw.tables["customers"]
    assert "Satisfaction Score" not in customers and "Gender" not in customers
    assert customers["signup_date"].tolist()[:2] == ["2022-09-01", "2021-10-01"]
    result = ingest_tables(raw.tables, raw.specs, CFG, mode="snapshot")
    kept = result.tables["customers"]
    assert kept["churned"].tolist() == [True, False]
    assert kept["monthly_charge"].dtype == "float64" and kept["contract"].dtype != "float64"
    assert result.quarantine[["rule", "value"]].values.tolist() == [
        ["unparseable_tenure_months", "abc"]]


HILLSTROM = """recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment,\
visit,conversion,spend
10,2) $100 - $200,142.44,1,0,Surburban,0,Phone,Womens E-Mail,0,0,0
6,3) $200 - $350,329.08,1,1,Rural,1,Web,No E-Mail,1,1,29.99
7,2) $100 - $200,180.65,0,1,Surburban,1,Web,Mens E-Mail,0,0,0
"""


def test_hillstrom_rows_become_a_randomised_campaign(tmp_path, project_root):
    folder = tmp_path / "hillstrom"
    folder.mkdir()
    (folder / "hillstrom_email_2008.csv").write_text(HILLSTROM)
    raw = sources.load(_data_cfg(project_root, "hillstrom", folder), tmp_path)
    result = ingest_tables(raw.tables, raw.specs, CFG)
    campaigns = result.tables["campaigns"]
    assert campaigns["offer_id"].tolist() == ["womens_email", "control", "mens_email"]
    assert campaigns["customer_id"].tolist() == ["H00001", "H00002", "H00003"]
    assert campaigns["redeemed"].tolist() == [False, True, False]
    assert result.tables["transactions"]["amount"].tolist() == [142.44, 329.08, 180.65, 29.99]
    assert result.quarantine.empty


@pytest.fixture
def journey(tmp_path) -> Path:
    folder = tmp_path / "completejourney"
    folder.mkdir()
    files = {
        "transactions_sample.csv": "household_id,store_id,basket_id,product_id,quantity,"
        "sales_value,retail_disc,coupon_disc,coupon_match_disc,week,transaction_timestamp\n"
        "1,309,1,940996,1,3.86,0.43,0.0,0.0,5,2017-01-28 19:06:53\n"
        "2,368,2,873902,1,1.59,0.9,0.5,0.0,10,2017-03-01 03:31:57\n",
        "campaigns.csv": "campaign_id,household_id\n1,1\n1,3\n",
        "campaign_descriptions.csv": "campaign_id,campaign_type,start_date,end_date\n"
        "1,Type B,2017-03-03,2017-04-09\n",
        "coupon_redemptions.csv": "household_id,coupon_upc,campaign_id,redemption_date\n"
        "1,51380041013,1,2017-03-10\n1,51380041313,1,2017-03-05\n2,1,9,2017-05-01\n",
        "demographics.csv": "household_id,age,income,home_ownership,marital_status,"
        "household_size,household_comp,kids_count\n1,65+,35-49K,Homeowner,Married,2,"
        "2 Adults No Kids,0\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_completejourney_campaigns_carry_redemptions_and_nothing_is_lost(journey, tmp_path,
                                                                        project_root):
    raw = sources.load(_data_cfg(project_root, "completejourney", journey), tmp_path)
    result = ingest_tables(raw.tables, raw.specs, CFG)
    campaigns = result.tables["campaigns"].set_index("customer_id")
    assert campaigns.loc["1", "responded_ts"] == pd.Timestamp("2017-03-05")
    assert bool(campaigns.loc["1", "redeemed"]) and not bool(campaigns.loc["3", "redeemed"])
    # household 2 redeemed a coupon of a campaign it has no row for: set aside, not lost
    assert result.quarantine[["table", "rule"]].values.tolist() == [["campaigns", "missing_ts"]]
    customers = result.tables["customers"].set_index("customer_id")
    assert sorted(customers.index) == ["1", "2", "3"]
    assert customers.loc["1", "age"] == "65+" and pd.isna(customers.loc["3", "age"])
    assert result.tables["transactions"]["discount"].tolist() == [0.43, 1.4]
