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
# release_cycle returns the design's seven keys; Catalog.status adds the programme state and the note.
CYCLE_KEYS = {"month", "type", "unplanned", "kb", "build", "published", "release_date"}
RELEASE_FIELDS = ("month", "build", "line", "oob", "baseline", "released")


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
    assert load_catalog().status(row["os"], row["month"]) == {"programme": "active", "note": None}
    assert release_cycle(release + datetime.timedelta(days=7), row["os"]) == expected
    before = release_cycle(release - datetime.timedelta(days=1), row["os"])
    assert before["month"] != row["month"]
    assert before["month"] < row["month"]


def test_shipped_catalog_holds_exactly_the_published_cycle_releases():
    catalog = load_catalog()
    expected = {(row["os"], row["month"]): row for row in CASES["published"]}
    shipped = {
        (os, month): catalog.cycle_release(os, month)
        for (os, month) in catalog.cycles
        if catalog.cycle_release(os, month) is not None
    }
    assert set(shipped) == set(expected)
    for key, row in expected.items():
        assert (shipped[key].kb, shipped[key].build) == (row["kb"], row["build"])
        assert catalog.cycle_type(*key) == (row["type"], row["unplanned"])


def _release_key(os, kb):
    return f"{os}-{kb}"


def test_shipped_releases_are_exactly_the_restated_rows():
    catalog = load_catalog()
    shipped = {_release_key(row.os, row.kb): row for rows in catalog.releases.values() for row in rows}
    expected = {_release_key(row["os"], row["kb"]): row for row in CASES["releases"]}
    assert sorted(set(shipped) - set(expected)) == [], "shipped rows the restatement does not hold"
    assert sorted(set(expected) - set(shipped)) == [], "restated rows the shipped catalog lacks"


@pytest.mark.parametrize("row", CASES["releases"], ids=lambda row: _release_key(row["os"], row["kb"]))
def test_shipped_release_row(row):
    release = load_catalog().by_kb(row["os"], row["kb"])
    assert release is not None
    defaults = {"oob": False, "baseline": None}
    assert {field: getattr(release, field) for field in RELEASE_FIELDS} == {
        field: row.get(field, defaults.get(field)) for field in RELEASE_FIELDS
    }
    assert release.source in load_catalog().sources, f"{row['kb']}: source {release.source!r} is not defined"


def test_every_shipped_row_names_a_defined_source():
    catalog = load_catalog()
    for item in catalog.items(origin=None):
        assert item.source in catalog.sources, f"{item}: source {item.source!r} is not under 'sources'"
    for source in catalog.sources.values():
        assert source["url"].startswith("https://")
        assert source["confidence"] in ("primary", "secondary", "assumed")
        assert source["retrieved"]


def test_planned_months_have_no_release():
    catalog = load_catalog()
    for os in ("2022", "2025"):
        for month in ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"):
            assert catalog.cycles[(os, month)].note.startswith("planned in the calendar")
            assert catalog.cycle_release(os, month) is None
            assert all(row.line == "lcu" for row in catalog.month_releases(os, month))


@pytest.mark.parametrize("row", CASES["published"], ids=_published_id)
def test_release_day_is_second_tuesday(row):
    year, month = (int(part) for part in row["month"].split("-"))
    day = release_day(year, month)
    assert day.isoformat() == row["release_date"]
    assert day.weekday() == 1
    assert 8 <= day.day <= 14


@pytest.mark.parametrize("case", params(CASES["cycles"]))
def test_release_cycle(case, tmp_path):
    catalog = _catalog_argument(case, tmp_path)
    result = release_cycle(case["when"], case["os"], catalog)
    assert set(result) == CYCLE_KEYS
    status = load_catalog(catalog).status(case["os"], result["month"])
    assert set(status) == {"programme", "note"}
    answer = result | status
    assert {key: answer[key] for key in case["expected"]} == case["expected"]
    for fragment in case.get("note_contains", ()):
        assert fragment in (status["note"] or ""), status["note"]


@pytest.mark.parametrize("case", params(CASES["queries"]))
def test_catalog_query(case):
    catalog = load_catalog(case.get("catalog"))
    answer = getattr(catalog, case["call"])(*case["args"])
    if "value" in case:
        assert answer == case["value"]
        return
    rows = answer if isinstance(answer, list) else [answer] if answer is not None else []
    assert [row.kb for row in rows] == case["kbs"]
    for kb, fields in (case.get("rows") or {}).items():
        row = catalog.by_kb(case["args"][0], kb)
        assert {field: getattr(row, field) for field in fields} == fields
    for kb, expected in (case.get("baseline") or {}).items():
        assert catalog.is_baseline(catalog.by_kb(case["args"][0], kb)) is expected, kb


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
