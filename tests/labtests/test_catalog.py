"""The lab's release table (tests/lab/releases.yml) against Microsoft's published figures, and the rules that
fill its gaps: planned months after the table, fleet rows, simulated KBs and builds."""

import datetime

import pytest

from tests.lab import catalog
from tests.lab.fleet import FleetError, load_fleet

TABLE = catalog.default_catalog()


def row(os_name, kb):
    found = [r for r in TABLE.known_rows(os_name) if r["kb"] == kb]
    assert len(found) == 1, (os_name, kb)
    return found[0]


@pytest.mark.parametrize(
    ("os_name", "kb", "build", "date", "kind"),
    [
        # release health, "Windows Server hotpatch calendar" and "Windows Server release history" (2026-05-13)
        ("2025", "KB5046696", 2240, "2024-11-12", "hotpatch"),
        ("2025", "KB5073379", 32230, "2026-01-13", "baseline"),
        ("2025", "KB5075942", 32313, "2026-02-10", "hotpatch"),
        ("2025", "KB5075899", 32370, "2026-02-10", "lcu"),
        ("2025", "KB5087423", 32772, "2026-05-12", "hotpatch"),
        ("2025", "KB5087539", 32860, "2026-05-12", "lcu"),
        ("2025", "KB5070773", 6901, "2025-10-20", "oob"),
        ("2025", "KB5070881", 6905, "2025-10-23", "oob"),
        ("2025", "KB5072359", 7178, "2025-11-18", "oob"),
        ("2025", "KB5077793", 32234, "2026-01-17", "oob"),
        ("2025", "KB5078135", 32236, "2026-01-24", "oob"),
        ("2025", "KB5091157", 32698, "2026-04-19", "oob"),
        # Arc known issue: the October 2025 update that keeps the hotpatch line, same build as KB5070881
        ("2025", "KB5070893", 6905, "2025-10-24", "oob_hotpatch"),
        ("2022", "KB5041160", 2655, "2024-08-13", "baseline"),
        ("2022", "KB5075943", 4711, "2026-02-10", "hotpatch"),
        ("2022", "KB5075906", 4773, "2026-02-10", "lcu"),
        ("2022", "KB5087545", 5139, "2026-05-12", "lcu"),
        ("2022", "KB5070884", 4297, "2025-10-23", "oob"),
        ("2022", "KB5077800", 4650, "2026-01-17", "oob"),
        ("2022", "KB5078136", 4651, "2026-01-24", "oob"),
        ("2022", "KB5082314", 4776, "2026-03-02", "oob"),
        ("2022", "KB5091575", 5024, "2026-04-19", "oob"),
    ],
)
def test_published_rows(os_name, kb, build, date, kind):
    found = row(os_name, kb)
    assert (found["build"], found["date"].isoformat(), found["kind"]) == (build, date, kind)
    assert not found["simulated"] and found["source"] in TABLE.sources


def test_every_published_month_has_its_release_and_its_lcu():
    for os_name, first in (("2025", "2024-11"), ("2022", "2024-01")):
        month = first
        while month <= "2026-05":
            kinds = {r["kind"] for r in TABLE.month_rows(os_name, month)}
            assert "baseline" in kinds or {"hotpatch", "lcu"} <= kinds, (os_name, month, kinds)
            assert not any(r["simulated"] for r in TABLE.month_rows(os_name, month)), (os_name, month)
            month = catalog.add_months(month, 1)
    assert TABLE.month_type("2022", "2024-08") == "baseline"
    assert row("2022", "KB5041160")["unplanned"] is True
    # the cycle of an out-of-band release is the one it came out in: March 2nd is still February's
    assert row("2022", "KB5082314")["month"] == "2026-02"


def test_october_2025_lines():
    """KB5070881 and KB5070893 share 26100.6905; only KB5070893 keeps the hotpatch line (Arc known issue)."""
    leaves, keeps = row("2025", "KB5070881"), row("2025", "KB5070893")
    assert leaves["build"] == keeps["build"] == 6905
    assert leaves["line_after"] == "lcu" and keeps["line_after"] == "hotpatch"
    assert leaves["all_until"] == datetime.date(2025, 10, 24) and leaves["audience"] == "not_enrolled"


def test_months_after_the_table_follow_the_planned_pattern_with_simulated_releases():
    published = {r["build"] for rows in TABLE.published.values() for r in rows}
    published_kbs = {r["kb"] for rows in TABLE.published.values() for r in rows}
    for os_name in ("2022", "2025"):
        previous = max(r["build"] for r in TABLE.published[os_name])
        for month in ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12", "2027-01"):
            rows = TABLE.month_rows(os_name, month)
            expected = "baseline" if int(month[5:]) in (1, 4, 7, 10) else "hotpatch"
            assert TABLE.month_type(os_name, month) == expected
            for r in rows:
                assert r["simulated"] and r["kb"].startswith("KB9") and r["kb"] not in published_kbs
                assert r["build"] not in published and r["build"] > previous - catalog.MONTH_STEP
            if expected == "hotpatch":
                assert (
                    TABLE.monthly(os_name, month, "hotpatch")["build"]
                    < TABLE.monthly(os_name, month, "lcu")["build"]
                )
            previous = max(r["build"] for r in rows)


def test_fleet_rows_declare_an_unplanned_baseline_and_an_out_of_band_release():
    fleet = load_fleet(
        {
            "date": "2026-08-12T02:00:00Z",
            "windows_update": {
                "releases": [
                    {"os": "2025", "month": "2026-08", "kind": "baseline", "unplanned": True},
                    {"os": "2025", "kb": "KB5999001", "build": 40001, "date": "2026-08-20", "kind": "oob"},
                ]
            },
            "hosts": {"a": {"os": "2025"}},
        }
    )
    table = fleet["catalog"]
    assert table.month_type("2025", "2026-08") == "baseline"
    august = table.monthly("2025", "2026-08", "baseline")
    assert august["unplanned"] and august["simulated"] and august["kb"].startswith("KB9")
    assert [r["kb"] for r in table.month_rows("2025", "2026-08") if r["kind"] == "oob"] == ["KB5999001"]
    # the lab's own table is untouched, and the planned months around it stay as they were
    assert TABLE.month_type("2025", "2026-08") == "hotpatch"
    assert table.month_type("2025", "2026-09") == "hotpatch"


def test_bad_fleet_rows_are_clear_errors():
    with pytest.raises(FleetError, match=r"windows_update.releases\[0\]: kind 'weekly'"):
        load_fleet(
            {
                "date": "2026-02-12T02:00:00Z",
                "windows_update": {"releases": [{"os": "2025", "month": "2026-08", "kind": "weekly"}]},
                "hosts": {"a": {}},
            }
        )


def test_cycles_and_patch_tuesdays():
    assert catalog.release_day(2026, 3) == datetime.date(2026, 3, 10)
    moment = datetime.datetime(2026, 2, 25, 12, tzinfo=datetime.UTC)
    assert catalog.cycle_month(moment) == "2026-02"
    assert catalog.next_patch_tuesday(moment) == datetime.date(2026, 3, 10)
    on_the_day = datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC)
    assert catalog.next_patch_tuesday(on_the_day) == datetime.date(2026, 4, 14)
