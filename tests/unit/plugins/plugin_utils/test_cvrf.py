"""The MSRC CVRF importer (plugins/plugin_utils/_cvrf.py) on recorded documents, from cases/cvrf.yml."""

import datetime
from pathlib import Path

import pytest
import yaml
from hotpatch_cases import load, params

from ansible_collections.hotpatch.windows.plugins.plugin_utils import _cvrf
from ansible_collections.hotpatch.windows.plugins.plugin_utils._catalog import (
    Programme,
    _shipped,
    catalog_freshness,
    load_catalog,
    release_cycle,
)
from ansible_collections.hotpatch.windows.plugins.plugin_utils._errors import HotpatchError

CASES = load("cvrf")
SAMPLES = Path(__file__).resolve().parents[3] / "windows_samples" / "cvrf"
TODAY = datetime.date(2026, 11, 25)
EXISTING = "# a catalog file the user already has\n- {os: '2025', month: '2027-02', type: baseline}\n"


def sample_loader(files):
    """A loader answering each month from ``files`` (month -> sample path or bytes)."""

    def load_month(month):
        item = files[month]
        data = item if isinstance(item, bytes) else (SAMPLES / item).read_bytes()
        return data, {"file": Path(str(item)).name if not isinstance(item, bytes) else "inline"}

    return load_month


def run(month, file, tmp_path, **options):
    return _cvrf.update_catalog(
        [month], sample_loader({month: file}), tmp_path / "catalog.yml", today=TODAY, **options
    )


def _change_name(change):
    row = change["row"]
    if change["kind"] == "cycle":
        return (row["os"], "cycle", row["type"], row.get("unplanned", False))
    return (row["os"], row["kb"])


def _expected_name(row):
    if "cycle" in row:
        return (row["os"], "cycle", row["cycle"], row["unplanned"])
    return (row["os"], row["kb"])


# ---------------------------------------------------------------------------------------------- samples
@pytest.mark.parametrize("case", params(CASES["samples"]))
def test_recorded_document_gives_the_catalog_rows(case, tmp_path):
    update = run(case["month"], case["file"], tmp_path)
    result = update.result
    changes = [*result["new"], *result["different"], *result["replaced_planned"]]
    statuses = {_change_name(change): change["status"] for change in changes}
    rows = {
        _change_name({"kind": "cycle" if "type" in row else "release", "row": row}): row
        for row in result["rows"]
    }
    expected = {_expected_name(row): row for row in case["rows"]}
    assert sorted(rows) == sorted(expected), "the import read other rows than the catalog holds"
    catalog = load_catalog()
    for name, row in expected.items():
        assert statuses.get(name, "equal") == row["status"], name
        imported = rows[name]
        if "kb" in row:
            assert (imported["line"], imported["build"], imported.get("oob", False)) == (
                row["line"],
                row["build"],
                row.get("oob", False),
            )
            assert imported["month"] == case["month"]
            assert imported["source"] == f"msrc-cvrf-{_cvrf.cvrf_id(case['month'])}"
        if row["status"] == "equal" and "kb" in row:
            shipped = catalog.by_kb(row["os"], row["kb"])
            for field in ("month", "build", "line", "oob"):
                assert imported.get(field, False if field == "oob" else None) == getattr(shipped, field), (
                    field
                )
            if not row.get("oob"):
                assert imported["released"] == shipped.released
        if row["status"] == "equal" and "cycle" in row:
            assert catalog.cycle_type(row["os"], case["month"]) == (row["cycle"], row["unplanned"])
        if "fields" in row:
            change = next(change for change in changes if _change_name(change) == name)
            assert change["fields"] == row["fields"]
    assert sorted(item["kb"] for item in result["not_imported"]) == sorted(case["not_imported"])
    assert result["months"] == [case["month"]]


def test_json_and_xml_documents_give_the_same_rows(tmp_path):
    xml = run("2025-02", "2025-Feb.xml", tmp_path).result["rows"]
    json_rows = run("2025-02", "json/2025-Feb.json", tmp_path).result["rows"]
    assert json_rows == xml


def test_a_row_that_disagrees_with_a_published_row_is_reported_and_kept(tmp_path):
    update = run("2024-02", "2024-Feb.xml", tmp_path, write=True)
    [different] = update.result["different"]
    assert different["action"] == "kept the catalog's row"
    assert "release-health" in different["reason"] and "prefer=import" in different["reason"]
    assert different["catalog_origin"] == "shipped"
    written = yaml.safe_load((tmp_path / "catalog.yml").read_text(encoding="utf-8"))
    assert written.get("cycles") is None and written["releases"] == []
    assert release_cycle("2024-02-20", "2022", str(tmp_path / "catalog.yml"))["kb"] == "KB5034860"


def test_prefer_import_writes_the_documents_row(tmp_path):
    update = run("2024-02", "2024-Feb.xml", tmp_path, write=True, prefer="import")
    assert update.result["different"][0]["action"] == "written"
    cycle = release_cycle("2024-02-20", "2022", str(tmp_path / "catalog.yml"))
    assert (cycle["type"], cycle["unplanned"], cycle["kb"]) == ("baseline", True, "KB5034770")


def test_june_2026_import_publishes_an_unplanned_baseline_and_is_idempotent(tmp_path):
    dest = tmp_path / "catalog.yml"
    first = run("2026-06", "2026-Jun.xml", tmp_path, write=True)
    assert first.changed
    text = dest.read_text(encoding="utf-8")
    for os in ("2022", "2025"):
        cycle = release_cycle("2026-06-15", os, str(dest))
        assert (cycle["type"], cycle["unplanned"], cycle["published"]) == ("baseline", True, True)
        assert load_catalog(str(dest)).status(os, "2026-06") == {"programme": "active", "note": None}
    assert release_cycle("2026-06-15", "2025", str(dest))["kb"] == "KB5094125"
    again = run("2026-06", "2026-Jun.xml", tmp_path, write=True)
    assert not again.changed
    assert dest.read_text(encoding="utf-8") == text
    assert len(again.result["equal"]) == 4


def test_rows_added_by_hand_are_kept_and_rows_now_shipped_are_pruned(tmp_path):
    dest = tmp_path / "catalog.yml"
    dest.write_text(
        "sources:\n  mine: {title: my notes, url: 'https://example.test/notes', retrieved: '2026-11-01'}\n"
        "cycles:\n  - {os: '2025', month: '2027-02', type: baseline, source: mine}\n"
        "releases:\n"
        "  - {os: '2025', month: '2026-05', kb: KB5087423, build: '26100.32772', line: hotpatch,"
        " released: '2026-05-12', source: release-health}\n",
        encoding="utf-8",
    )
    update = run("2026-06", "2026-Jun.xml", tmp_path, write=True)
    assert update.result["pruned"] == ["KB5087423 of Windows Server 2025 (2026-05)"]
    written = yaml.safe_load(dest.read_text(encoding="utf-8"))
    assert {
        "os": "2025",
        "month": "2027-02",
        "type": "baseline",
        "unplanned": True,
        "source": "mine",
    } in written["cycles"]
    assert written["sources"]["mine"]["title"] == "my notes"
    assert written["sources"]["msrc-cvrf-2026-Jun"]["confidence"] == "primary"
    assert written["releases"] == []


def test_out_of_band_needs_the_next_months_cumulative_update(tmp_path):
    items, sources, ga_builds = _shipped()
    # A catalog that knows neither November 2025 nor the October out-of-band releases.
    kept = tuple(
        item
        for item in items
        if getattr(item, "month", None) != "2025-11"
        and getattr(item, "kb", None) not in ("KB5070881", "KB5070884")
    )
    update = run("2025-10", "2025-Oct.xml", tmp_path, shipped=(kept, sources, ga_builds))
    reasons = {item["kb"]: item["reason"] for item in update.result["not_imported"]}
    assert "next month's cumulative update is unknown" in reasons["KB5070881"]
    assert "next month's cumulative update is unknown" in reasons["KB5070884"]


def test_a_catalog_with_no_rows_reads_the_same_releases(tmp_path):
    items, sources, ga_builds = _shipped()
    programmes = tuple(item for item in items if isinstance(item, Programme))
    shipped = load_catalog()
    for month, file in (
        ("2024-08", "2024-Aug.xml"),
        ("2025-02", "2025-Feb.xml"),
        ("2026-05", "2026-May.xml"),
    ):
        update = run(month, file, tmp_path, shipped=(programmes, sources, ga_builds))
        for change in update.result["new"]:
            row = change["row"]
            if change["kind"] == "release":
                known = shipped.by_kb(row["os"], row["kb"])
                assert (known.month, known.build, known.line, known.released) == (
                    row["month"],
                    row["build"],
                    row["line"],
                    row["released"],
                )
            else:
                assert shipped.cycle_type(row["os"], row["month"]) == (
                    row["type"],
                    row.get("unplanned", False),
                )


# ---------------------------------------------------------------------------------------------- failures
def _error_data(case):
    if "data" in case:
        return case["data"].encode("utf-8")
    data = (SAMPLES / case["file"]).read_bytes()
    return data[: case["truncate"]] if "truncate" in case else data


def _assert_untouched(dest, before):
    assert dest.read_bytes() == before
    assert sorted(path.name for path in dest.parent.iterdir()) == [dest.name], "a temporary file was left"


@pytest.mark.parametrize("case", params(CASES["errors"]))
def test_bad_document_fails_and_leaves_the_file_as_it_was(case, tmp_path):
    dest = tmp_path / "catalog.yml"
    dest.write_text(EXISTING, encoding="utf-8")
    before = dest.read_bytes()
    loader = sample_loader({case["month"]: _error_data(case)})
    with pytest.raises(_cvrf.CvrfError) as info:
        _cvrf.update_catalog([case["month"]], loader, dest, today=TODAY, write=True)
    for fragment in case["error"]:
        assert fragment in str(info.value)
    assert info.value.month == case["month"]
    _assert_untouched(dest, before)


def test_a_failing_month_after_good_ones_writes_nothing(tmp_path):
    dest = tmp_path / "catalog.yml"
    dest.write_text(EXISTING, encoding="utf-8")
    before = dest.read_bytes()
    loader = sample_loader({"2026-06": "2026-Jun.xml", "2026-07": "early/2026-Jul.xml"})
    with pytest.raises(_cvrf.CvrfError, match="2026-Jul"):
        _cvrf.update_catalog(["2026-06", "2026-07"], loader, dest, today=TODAY, write=True)
    _assert_untouched(dest, before)


def test_an_unreadable_existing_file_is_not_replaced(tmp_path):
    dest = tmp_path / "catalog.yml"
    dest.write_text("- {os: '2025', month: '2026-06', type: hotfix}\n", encoding="utf-8")
    before = dest.read_bytes()
    with pytest.raises(HotpatchError, match=r"'type'.*left as it is"):
        run("2026-06", "2026-Jun.xml", tmp_path, write=True)
    _assert_untouched(dest, before)


def test_a_failed_rename_leaves_the_file_and_no_temporary(tmp_path, monkeypatch):
    dest = tmp_path / "catalog.yml"
    dest.write_text(EXISTING, encoding="utf-8")
    before = dest.read_bytes()

    def refuse(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_cvrf._os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        run("2026-06", "2026-Jun.xml", tmp_path, write=True)
    _assert_untouched(dest, before)


def test_write_atomic_keeps_the_files_mode(tmp_path):
    dest = tmp_path / "catalog.yml"
    dest.write_text("old\n", encoding="utf-8")
    dest.chmod(0o640)
    _cvrf.write_atomic(dest, "new\n")
    assert dest.read_text(encoding="utf-8") == "new\n"
    assert dest.stat().st_mode & 0o777 == 0o640


# ---------------------------------------------------------------------------------------------- helpers
@pytest.mark.parametrize(
    ("name", "os"),
    [
        ("Windows Server 2025", "2025"),
        ("Windows Server 2025 (Server Core installation)", "2025"),
        ("windows server  2022", "2022"),
        ("Windows Server 2022 (Server Core installation)", "2022"),
        ("Windows Server 2022 Datacenter: Azure Edition (Hotpatch)", "2022"),
        ("Windows Server 2022, 23H2 Edition (Server Core installation)", None),
        ("Windows 11 Version 24H2 for x64-based Systems", None),
        ("Microsoft .NET Framework 3.5 AND 4.8.1 on Windows Server 2022", None),
    ],
)
def test_os_of_product(name, os):
    assert _cvrf.os_of_product(name) == os


@pytest.mark.parametrize(
    ("text", "os", "build"),
    [
        ("10.0.26100.32995", "2025", "26100.32995"),
        ("26100.4349", "2025", "26100.4349"),
        (
            "10.0.26200.4349",
            "2025",
            None,
        ),  # a Windows 11 25H2 build listed for Windows Server 2025 in 2025-Jul
        ("10.0.20348.2655", "2025", None),
        ("10.0.20348.2655", "2022", "20348.2655"),
        ("9.0.2121-4", "2022", None),
        (None, "2022", None),
    ],
)
def test_fixed_build(text, os, build):
    assert _cvrf.fixed_build(text, os) == build


@pytest.mark.parametrize(
    ("subtype", "kind"),
    [
        ("Security Update", "lcu"),
        ("Security Hotpatch Update", "hotpatch"),
        ("SecurityHotpatchUpdate", "hotpatch"),
        ("security hotpatch update", "hotpatch"),
        ("Security HotPatch Update", "hotpatch"),
        ("Standalone Security Update", "other"),
        ("Security Only", "other"),
        ("Monthly Rollup", "other"),
    ],
)
def test_subtype_kinds(subtype, kind):
    assert _cvrf.Fix("KB1", subtype, None, ()).kind == kind


def test_document_ids():
    assert _cvrf.cvrf_id("2026-06") == "2026-Jun"
    assert _cvrf.month_of_id("2018-FEB") == "2018-02"
    assert _cvrf.month_of_id("2026-Jux") is None
    assert _cvrf.month_range("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]
    with pytest.raises(HotpatchError, match="YYYY-MM"):
        _cvrf.check_month("2026-13", "months.from")


def test_default_months_start_after_the_newest_published_month():
    assert _cvrf.default_months(load_catalog(), TODAY) == ("2026-06", "2026-11")
    assert _cvrf.default_months(load_catalog(), datetime.date(2026, 11, 9)) == ("2026-06", "2026-10")
    published_june = load_catalog([{"os": "2022", "month": "2026-06", "type": "baseline"}])
    assert _cvrf.default_months(published_june, TODAY) == ("2026-06", "2026-11")  # 2025 still needs June
    # After the 2022 programme's end (2027-10), only Windows Server 2025 decides where to start.
    ended = load_catalog(
        [
            {"os": "2025", "month": "2026-06", "type": "baseline"},
            {"os": "2025", "month": "2026-07", "kb": "KB5099538", "build": "26100.33120", "line": "lcu"},
        ]
    )
    assert _cvrf.default_months(ended, datetime.date(2028, 1, 20)) == ("2026-08", "2028-01")


def test_directory_loader_finds_documents_by_id(tmp_path):
    (tmp_path / "2026-jun.XML").write_bytes((SAMPLES / "2026-Jun.xml").read_bytes())
    (tmp_path / "notes.txt").write_text("not a document", encoding="utf-8")
    loader, months = _cvrf.directory_loader(tmp_path)
    assert months == ["2026-06"]
    assert loader("2026-06")[1] == {"file": "2026-jun.XML"}
    with pytest.raises(_cvrf.CvrfError, match=r"2026-Jul.*no file 2026-Jul.json or 2026-Jul.xml"):
        loader("2026-07")
    with pytest.raises(HotpatchError, match="not a directory"):
        _cvrf.directory_loader(tmp_path / "absent")


# ---------------------------------------------------------------------------------------------- freshness
def test_catalog_freshness_of_the_shipped_catalog():
    fresh = catalog_freshness()
    assert fresh["2025"]["newest_month"] == "2026-05"
    assert fresh["2025"]["kb"] == "KB5087423"
    assert fresh["2025"]["origin"] == "shipped"
    assert fresh["2025"]["source"]["id"] == "release-health"
    assert fresh["2025"]["source"]["url"].startswith("https://learn.microsoft.com/")
    assert fresh["2022"]["programme"]["last"] == "2027-10"
    assert fresh["2022"]["programme"]["confidence"] == "secondary"
    assert fresh["2025"]["programme"] == {
        "first": "2024-11",
        "last": None,
        "confidence": "primary",
        "source": "release-health",
    }


def test_catalog_freshness_with_an_imported_file(tmp_path):
    run("2026-06", "2026-Jun.xml", tmp_path, write=True)
    fresh = catalog_freshness(str(tmp_path / "catalog.yml"))
    assert fresh["2025"]["newest_month"] == "2026-06"
    assert fresh["2025"]["kb"] == "KB5094125"
    assert fresh["2025"]["source"]["id"] == "msrc-cvrf-2026-Jun"
    assert fresh["2025"]["source"]["title"].startswith(
        "MSRC security updates API v3.0, CVRF document 2026-Jun"
    )
    assert fresh["2025"]["source"]["retrieved"] == "2026-11-25"
