"""The release catalog and release_cycle (plugins/plugin_utils/_catalog.py), from cases/catalog.yml."""

import datetime

import pytest
from hotpatch_cases import load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import (
    find_build,
    load_catalog,
    release_cycle,
    release_day,
)
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

CASES = load("catalog")
CYCLE_KEYS = {"month", "type", "unplanned", "kb", "build", "published", "release_date"}


def _published_id(row):
    return f"{row['os']}-{row['month']}"


def _catalog_argument(case, tmp_path):
    if "catalog_file" in case:
        path = tmp_path / "catalog.yml"
        path.write_text(case["catalog_file"], encoding="utf-8")
        return str(path)
    if case.get("catalog_missing_file"):
        return str(tmp_path / "absent.yml")
    return case.get("catalog")


@pytest.mark.parametrize("row", CASES["published"], ids=_published_id)
def test_every_published_month(row):
    release = datetime.date.fromisoformat(row["release_date"])
    expected = {key: row[key] for key in CYCLE_KEYS - {"published"}} | {"published": True}
    assert release_cycle(release, row["os"]) == expected
    assert release_cycle(release + datetime.timedelta(days=7), row["os"]) == expected
    before = release_cycle(release - datetime.timedelta(days=1), row["os"])
    assert before["month"] != row["month"]
    assert before["month"] < row["month"]


def test_shipped_catalog_holds_exactly_the_published_rows():
    shipped = {(row["os"], row["month"]): row for row in load_catalog()}
    expected = {(row["os"], row["month"]): row for row in CASES["published"]}
    assert set(shipped) == set(expected)
    for key, row in expected.items():
        assert shipped[key]["kb"] == row["kb"]
        assert shipped[key]["build"] == row["build"]
        assert shipped[key]["type"] == row["type"]
        assert shipped[key]["unplanned"] == row["unplanned"]
        assert shipped[key]["published"] is True


@pytest.mark.parametrize("row", CASES["published"], ids=_published_id)
def test_release_day_is_second_tuesday(row):
    year, month = (int(part) for part in row["month"].split("-"))
    day = release_day(year, month)
    assert day.isoformat() == row["release_date"]
    assert day.weekday() == 1
    assert 8 <= day.day <= 14


@pytest.mark.parametrize("case", params(CASES["cycles"]))
def test_release_cycle(case, tmp_path):
    result = release_cycle(case["when"], case["os"], _catalog_argument(case, tmp_path))
    assert set(result) == CYCLE_KEYS
    assert {key: result[key] for key in case["expected"]} == case["expected"]


def test_release_cycle_accepts_date_and_datetime_objects():
    assert release_cycle(datetime.date(2026, 2, 10), "2025")["month"] == "2026-02"
    assert release_cycle(datetime.datetime(2026, 2, 9, 23, 0), "2025")["month"] == "2026-01"


def test_unpublished_months_follow_planned_pattern():
    for month in range(1, 13):
        cycle = release_cycle(release_day(2027, month), "2025")
        assert cycle["type"] == ("baseline" if month in (1, 4, 7, 10) else "hotpatch")
        assert cycle["published"] is False
        assert cycle["kb"] is None
        assert cycle["build"] is None


def test_user_rows_do_not_change_the_shipped_catalog():
    load_catalog(
        [{"os": "2022", "month": "2024-09", "type": "baseline", "kb": "KB5000001", "build": "20348.1"}]
    )
    assert release_cycle("2024-09-20", "2022")["kb"] == "KB5042880"


@pytest.mark.parametrize("case", params(CASES["builds"]))
def test_find_build(case):
    row = find_build(case["os"], case["build"])
    if case["month"] is None:
        assert row is None
    else:
        assert row["month"] == case["month"]
        assert row["kb"] == case["kb"]


@pytest.mark.parametrize("case", params(CASES["errors"]))
def test_errors(case, tmp_path):
    with pytest.raises(HotpatchError) as info:
        release_cycle(case["when"], case["os"], _catalog_argument(case, tmp_path))
    for fragment in case["error"]:
        assert fragment in str(info.value)
