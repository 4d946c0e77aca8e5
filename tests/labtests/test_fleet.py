"""Fleet files and the Windows Update model, without a network: Microsoft's rules as the lab applies them."""

import datetime

import pytest

from tests.lab import catalog
from tests.lab.fleet import FleetError, load_fleet
from tests.lab.ledger import Ledger
from tests.lab.windows import LabClock, SimHost

DATE = "2026-02-12T02:00:00Z"


def host(spec: dict, date: str = DATE, events=None) -> SimHost:
    fleet = load_fleet({"date": date, "hosts": {"h": spec}})
    clock = LabClock(fleet["date"], __import__("time").time())

    def record(name, event, **fields):
        if events is not None:
            events.append({"host": name, "event": event, **fields})

    return SimHost(fleet["hosts"]["h"], clock, record)


@pytest.mark.parametrize(
    ("fleet", "message"),
    [
        ({"hosts": {"a": {}}}, "'date' is required"),
        ({"date": DATE, "hosts": {"a": {}}, "colour": "red"}, "unknown keys ['colour']"),
        ({"date": DATE, "hosts": {"a": {"flavour": 1}}}, "host a: unknown keys ['flavour']"),
        ({"date": DATE, "hosts": {"a": {"os": "2012"}}}, "host a: os '2012'"),
        ({"date": DATE, "hosts": {"a": {"os": "2025", "build": "20348.100"}}}, "host a: build '20348.100'"),
        (
            {"date": DATE, "hosts": {"a": {"os": "2025", "build": 26100.3223}}},
            "host a: build 26100.3223 must be quoted",
        ),
        ({"date": DATE, "hosts": {"a": {"faults": ["explode"]}}}, "host a: unknown fault 'explode'"),
        ({"date": DATE, "hosts": {"a": {"faults": ["slow:soon"]}}}, "slow needs seconds"),
        ({"date": DATE, "hosts": {"a": {"reboot_pending": ["maybe"]}}}, "host a: reboot_pending"),
        ({"date": "yesterday", "hosts": {"a": {}}}, "not an ISO 8601"),
        ({"date": DATE, "hosts": {"a": {"updates": [{"title": "x"}]}}}, "host a: each update needs kb"),
    ],
)
def test_bad_fleets_name_host_and_key(fleet, message):
    with pytest.raises(FleetError, match=__import__("re").escape(message)):
        load_fleet(fleet)


def test_release_day_is_second_tuesday():
    assert catalog.release_day(2026, 2) == datetime.date(2026, 2, 10)
    assert catalog.cycle_month(datetime.datetime(2026, 2, 9, 23, tzinfo=datetime.UTC)) == "2026-01"
    assert catalog.cycle_month(datetime.datetime(2026, 2, 10, tzinfo=datetime.UTC)) == "2026-02"


def test_published_and_simulated_releases():
    feb25 = catalog.release("2025", "2025-02")
    assert feb25["hotpatch"]["kb"] == "KB5052105" and feb25["lcu"] == {
        "kb": "KB5051987",
        "ubr": 3194,
        "simulated": False,
    }
    assert catalog.release("2022", "2024-08")["type"] == "baseline"  # the unplanned baseline
    table = catalog.default_catalog()
    published = {row["build"] for rows in table.published.values() for row in rows}
    for os_name in ("2022", "2025"):
        for index in range(36):
            month = catalog.add_months("2024-01", index)
            rel = catalog.release(os_name, month)
            if rel["lcu"]["simulated"]:
                assert rel["lcu"]["kb"].startswith("KB9") and rel["lcu"]["ubr"] not in published
            if rel["hotpatch"]:
                assert rel["hotpatch"]["ubr"] < rel["lcu"]["ubr"]
    later = catalog.release("2025", "2026-07")
    assert later["type"] == "baseline" and later["lcu"]["simulated"]
    assert catalog.release("2025", "2026-08")["type"] == "hotpatch"


def test_default_build_is_the_release_before_the_cycle():
    assert host({"os": "2025"}).build == "26100.32230"  # January baseline, February to install
    assert host({"os": "2025"}, date="2026-03-20T00:00:00Z").build == "26100.32313"  # February hotpatch
    # not hotpatch-capable: February's regular cumulative update (simulated build)
    assert (
        host({"os": "2025", "vbs": "off"}, date="2026-03-20T00:00:00Z").ubr
        == catalog.release("2025", "2026-02")["lcu"]["ubr"]
    )


def test_hotpatch_offer_follows_microsofts_rules():
    on_baseline = host({"os": "2025"}).offered_updates()
    assert [(u["kb"], u["reboot"], u["categories"]) for u in on_baseline] == [
        ("KB5075942", False, ["Security Updates"])
    ]
    assert "Hotpatch" in on_baseline[0]["title"]
    for spec in (
        {"os": "2025", "vbs": "off", "hotpatch_enrolled": True},  # enrolled, VBS off: no hotpatch
        {"os": "2025", "build": "26100.7392"},  # off its baseline (skipped January)
        {"os": "2025", "hotpatch_enrolled": False},
        {"os": "2025", "architecture": "ARM64", "chpe": True},
        {"os": "2025", "platform": "arc", "arc": {"agent": "running", "hotpatch_license": "disabled"}},
    ):
        offers = host(spec).offered_updates()
        assert len(offers) == 1 and offers[0]["reboot"] and "Cumulative" in offers[0]["title"], spec
        assert offers[0]["kb"] == "KB5075899"  # February 2026's regular cumulative update, 26100.32370
    baseline_month = host({"os": "2025"}, date="2026-04-20T00:00:00Z").offered_updates()
    assert [u["kb"] for u in baseline_month] == ["KB5082063"] and baseline_month[0]["reboot"]


def test_install_and_restart_move_the_build():
    events = []
    hotpatch = host({"os": "2025"}, events=events)
    assert hotpatch.install(hotpatch.offered_updates()[0]) is False
    assert hotpatch.build == "26100.32313" and hotpatch.offered_updates() == []
    lcu = host({"os": "2019", "platform": "on_premises"}, events=events)
    before = lcu.build
    assert lcu.install(lcu.offered_updates()[0]) is True
    assert lcu.build == before and lcu.wu_reboot_required() and lcu.offered_updates() == []
    lcu.go_down()
    lcu.come_up()
    assert lcu.build != before and not lcu.reboot_pending
    assert [e["event"] for e in events] == ["install", "install", "restart_down", "restart_up"]


def test_faulty_hotpatch_waits_for_restart():
    sim = host({"os": "2025", "faults": ["hotpatch_needs_reboot"]})
    assert sim.install(sim.offered_updates()[0]) is True
    assert sim.build == "26100.32230"
    sim.come_up()
    assert sim.build == "26100.32313"


def test_ledger_peaks(tmp_path):
    lines = [
        {"time": f"2026-02-12T02:00:0{i}.000000Z", **entry}
        for i, entry in enumerate(
            [
                {"host": "a", "event": "restart_down", "group": "web"},
                {"host": "b", "event": "restart_down", "group": "web"},
                {"host": "c", "event": "restart_down", "group": "sql"},
                {"host": "a", "event": "restart_up", "group": "web"},
                {"host": "b", "event": "restart_up", "group": "web"},
                {"host": "a", "event": "restart_down", "group": "web"},
                {"host": "a", "event": "install", "group": "web", "kb": "KB1"},
            ],
            start=1,
        )
    ]
    (tmp_path / "ledger.jsonl").write_text("".join(__import__("json").dumps(x) + "\n" for x in lines))
    ledger = Ledger(tmp_path)
    assert ledger.max_down() == 3 and ledger.max_down_per_group() == {"web": 2, "sql": 1}
    assert ledger.restarts() == {"a": 2, "b": 1, "c": 1} and ledger.installs() == {"a": ["KB1"]}
    assert ledger.summary()["events"] == 7
    # lab seconds down: a from 1 to 4 and from 6 to the last event (7), b from 2 to 5, c from 3 on
    assert ledger.downtime() == {"a": 4.0, "b": 3.0, "c": 4.0}
    assert ledger.span()["seconds"] == 6.0
    assert ledger.between("2026-02-12T02:00:04Z", "2026-02-12T02:00:06Z").restarts() == {"a": 1}
