"""Windows Update as a function of the host's state and the date (the realistic model, without a network):
the hotpatch line, out-of-band releases, the October 2025 case, licences, enrolment, Defender, MSRT, .NET,
previews, drivers, restart flags, what Get-HotFix lists, and the title forms recorded from real hosts."""

import datetime
import re
import time
from pathlib import Path

import pytest
import yaml

from tests.lab import catalog
from tests.lab.fleet import load_fleet
from tests.lab.windows import LabClock, SimHost

SAMPLES = Path(__file__).resolve().parent.parent / "windows_samples" / "windows_update"
QUIET = {"defender": False, "msrt": False, "dotnet": False, "preview": False}


def hosts(date: str, specs: dict, windows_update=None, events=None) -> dict:
    fleet = load_fleet(
        {"date": date, "windows_update": QUIET if windows_update is None else windows_update, "hosts": specs}
    )
    clock = LabClock(fleet["date"], time.time())

    def record(name, event, **fields):
        if events is not None:
            events.append({"host": name, "event": event, **fields})

    return {name: SimHost(spec, clock, record) for name, spec in fleet["hosts"].items()}


def kbs(host) -> list:
    return [u["kb"] for u in host.offered_updates()]


def move(host, when: str):
    host.clock.advance_to(datetime.datetime.fromisoformat(when.replace("Z", "+00:00")))


def install_all(host) -> list:
    offered = host.offered_updates()
    for update in offered:
        host.install(update)
    return offered


def restart(host):
    host.go_down()
    host.come_up()


def test_enrolment_line_and_month_decide_the_offer():
    feb = hosts(
        "2026-02-12T02:00:00Z",
        {
            "enrolled": {"os": "2025"},
            "not_enrolled": {"os": "2025", "hotpatch_enrolled": False},
            "vbs_off": {"os": "2025", "vbs": "off", "hotpatch_enrolled": True},
            "off_line": {"os": "2025", "build": "26100.7392"},  # December's hotpatch: skipped the baseline
            "lcu_done": {"os": "2025", "build": "26100.32370", "hotfixes": ["KB5075899"]},
            "old_2022": {"os": "2022", "platform": "on_premises"},
        },
    )
    assert kbs(feb["enrolled"]) == ["KB5075942"]  # February's hotpatch
    for name in ("not_enrolled", "vbs_off", "off_line"):
        assert kbs(feb[name]) == ["KB5075899"], name  # February's regular cumulative update
    assert kbs(feb["lcu_done"]) == []  # fully patched on the LCU line: nothing left
    assert kbs(feb["old_2022"]) == ["KB5075906"]
    april = hosts("2026-04-15T02:00:00Z", {"enrolled": {"os": "2025"}, "other": {"os": "2025", "vbs": "off"}})
    assert kbs(april["enrolled"]) == kbs(april["other"]) == ["KB5082063"]  # a baseline month: everyone


def test_hotpatch_moves_the_build_at_once_and_an_lcu_at_the_restart():
    events = []
    feb = hosts(
        "2026-02-12T02:00:00Z", {"hp": {"os": "2025"}, "lcu": {"os": "2025", "vbs": "off"}}, events=events
    )
    hp, lcu = feb["hp"], feb["lcu"]
    assert (
        install_all(hp)[0]["reboot_behaviour"] == 2
    )  # CanRequestReboot, as every recorded cumulative package
    assert hp.build == "26100.32313" and hp.reboot_pending == set() and not hp.wu_reboot_required()
    assert "KB5075942" in hp.hotfixes  # Win32_QuickFixEngineering lists it
    install_all(lcu)
    assert lcu.build == "26100.32230" and lcu.reboot_pending == {"windows_update", "cbs"}
    assert kbs(lcu) == []  # nothing more until the restart
    restart(lcu)
    assert lcu.build == "26100.32370" and lcu.reboot_pending == set()
    assert "KB5075899" in lcu.hotfixes and "KB5073379" not in lcu.hotfixes  # the superseded LCU is gone
    installs = [e for e in events if e["event"] == "install"]
    assert [(e["kb"], e["restart"], e["kind"], e["released"]) for e in installs] == [
        ("KB5075942", False, "hotpatch", "2026-02-10"),
        ("KB5075899", True, "lcu", "2026-02-10"),
    ]


def test_october_2025_the_same_build_on_two_lines():
    """Arc known issue: KB5070881 (offered to every 2025 machine on 2025-10-23, then only to machines not
    enrolled) leaves the hotpatch line until the January 2026 baseline; KB5070893 (2025-10-24) keeps it."""
    fleet = {"mistake": {"os": "2025", "build": "26100.6899"}, "kept": {"os": "2025", "build": "26100.6899"}}
    lab = hosts("2025-10-23T12:00:00Z", fleet)
    assert kbs(lab["mistake"]) == ["KB5070881"]  # the distribution mistake: offered to an enrolled machine
    for update in lab["mistake"].offered_updates():
        lab["mistake"].install(update)
    restart(lab["mistake"])
    move(lab["kept"], "2025-10-25T12:00:00Z")
    assert kbs(lab["kept"]) == ["KB5070893"]
    install_all(lab["kept"])
    restart(lab["kept"])
    assert lab["mistake"].build == lab["kept"].build == "26100.6905"
    move(lab["kept"], "2025-11-12T12:00:00Z")
    assert kbs(lab["kept"]) == ["KB5068966"]  # November's hotpatch
    assert kbs(lab["mistake"]) == ["KB5068861"]  # November's cumulative update: a restart every month
    install_all(lab["mistake"])
    restart(lab["mistake"])
    move(lab["kept"], "2025-12-10T12:00:00Z")
    assert kbs(lab["mistake"]) == ["KB5072033"]
    install_all(lab["mistake"])
    restart(lab["mistake"])
    move(lab["kept"], "2026-01-14T12:00:00Z")
    assert kbs(lab["mistake"]) == ["KB5073379"]  # the January baseline brings it back
    install_all(lab["mistake"])
    restart(lab["mistake"])
    move(lab["kept"], "2026-02-11T12:00:00Z")
    assert kbs(lab["mistake"]) == ["KB5075942"]
    # a fleet can start on 26100.6905 too: the installed KB says which line
    nov = hosts(
        "2025-11-12T12:00:00Z",
        {
            "with_881": {"os": "2025", "build": "26100.6905", "hotfixes": ["KB5070881"]},
            "with_893": {"os": "2025", "build": "26100.6905", "hotfixes": ["KB5070893"]},
        },
    )
    assert kbs(nov["with_881"]) == ["KB5068861"] and kbs(nov["with_893"]) == ["KB5068966"]


def test_out_of_band_releases_go_to_hosts_not_enrolled():
    jan = hosts("2026-01-25T12:00:00Z", {"enrolled": {"os": "2025"}, "plain": {"os": "2025", "vbs": "off"}})
    assert kbs(jan["enrolled"]) == ["KB5073379"]  # the baseline, not the out-of-band releases after it
    assert kbs(jan["plain"]) == ["KB5078135"]  # the newest out-of-band release (cumulative)
    may = hosts(
        "2026-05-13T12:00:00Z", {"oob": {"os": "2025", "build": "26100.32698", "hotfixes": ["KB5091157"]}}
    )
    assert kbs(may["oob"]) == ["KB5087539"]  # KB5091157 left the hotpatch line: May's LCU, not its hotpatch


def test_unplanned_baseline_the_catalog_does_not_know():
    releases = [
        {"os": "2025", "month": "2026-08", "kind": "baseline", "unplanned": True},
        {"os": "2022", "month": "2026-08", "kind": "baseline", "unplanned": True},
    ]
    lab = hosts(
        "2026-08-12T12:00:00Z",
        {"a": {"os": "2025"}, "b": {"os": "2022"}},
        windows_update=dict(QUIET, releases=releases),
    )
    for host in lab.values():
        offered = host.offered_updates()
        assert len(offered) == 1 and offered[0]["kind"] == "baseline" and offered[0]["reboot"]
        assert "Hotpatch" not in offered[0]["title"]


def test_arc_licence_lapse_and_lost_enrolment():
    arc = {
        "os": "2025",
        "platform": "arc",
        "edition_id": "ServerStandard",
        "arc": {"hotpatch_license": "enabled"},
    }
    lab = hosts(
        "2026-02-12T02:00:00Z",
        {"lapses": dict(arc, arc={"hotpatch_license": "enabled", "hotpatch_license_expires": "2026-03-01"})},
    )
    assert kbs(lab["lapses"]) == ["KB5075942"]
    move(lab["lapses"], "2026-03-11T12:00:00Z")
    assert not lab["lapses"].hotpatch_eligible()
    assert kbs(lab["lapses"]) == ["KB5078740"]  # the licence expired: March's LCU, a restart
    loses = hosts("2026-02-12T02:00:00Z", {"loses": dict(arc, lose_enrolment_after=["KB5075942"])})["loses"]
    install_all(loses)
    assert loses.build == "26100.32313"  # the hotpatch installed
    move(loses, "2026-03-11T12:00:00Z")
    assert not loses.enrolled and kbs(loses) == ["KB5078740"]


def test_noise_defender_msrt_dotnet_preview_drivers():
    noisy = {
        "defender": True,
        "msrt": True,
        "dotnet": {"months": [1, 4, 7, 10], "extra": ["2026-03"]},
        "preview": True,
    }
    lab = hosts(
        "2026-03-11T02:00:00Z",
        {"h": {"os": "2025", "drivers": [{"title": "VMware, Inc. - Net - 1.9.2.0", "reboot": False}]}},
        windows_update=noisy,
    )
    host = lab["h"]
    offered = {u["kind"]: u for u in host.offered_updates()}
    assert set(offered) == {"hotpatch", "defender", "msrt", "dotnet", "driver"}
    assert offered["defender"]["classification"] == "Definition Updates" and not offered["defender"]["reboot"]
    assert offered["defender"]["reboot_behaviour"] == 0
    assert offered["msrt"]["classification"] == "Update Rollups" and not offered["msrt"]["reboot"]
    assert offered["dotnet"]["classification"] == "Security Updates" and offered["dotnet"]["reboot"]
    assert offered["driver"]["categories"][0] == "Drivers" and offered["driver"]["type"] == "Driver"
    host.install(offered["defender"])
    host.install(offered["msrt"])
    assert {u["kind"] for u in host.offered_updates()} == {"hotpatch", "dotnet", "driver"}
    assert host.reboot_pending == set()
    host.install(offered["dotnet"])
    assert host.reboot_pending == {"windows_update", "cbs"}  # .NET ships as a servicing package
    move(host, "2026-03-12T12:00:00Z")  # a lab day later: new definitions
    assert "defender" in {u["kind"] for u in host.offered_updates()}
    move(host, "2026-03-25T12:00:00Z")  # the fourth Tuesday: the optional preview
    preview = [u for u in host.offered_updates() if u["kind"] == "preview"]
    assert preview and preview[0]["browse_only"] and preview[0]["classification"] == "Updates"
    assert "Cumulative Update Preview" in preview[0]["title"]


def test_azure_image_names_match_without_case():
    lab = hosts(
        "2026-02-12T02:00:00Z",
        {
            "lower": {
                "os": "2025",
                "image": {
                    "publisher": "microsoftwindowsserver",
                    "offer": "windowsserver",
                    "sku": "2025-datacenter-azure-edition-core",
                },
            }
        },
    )
    host = lab["lower"]
    assert host.spec["edition_id"] == "ServerTurbineCor" and host.hotpatch_eligible()
    assert kbs(host) == ["KB5075942"]
    assert host.azure_metadata()["sku"] == "2025-datacenter-azure-edition-core"  # as typed at creation


FORMS = {
    "lcu_2019": ("2019", "2021-05", "lcu"),
    "lcu_2022": ("2022", "2025-07", "baseline"),
    "lcu_2025_catalog": ("2025", "2025-07", "baseline"),
    "lcu_2025_simplified": ("2025", "2026-06", "hotpatch_month_lcu"),
}


def _shape(title: str) -> str:
    """A title with its variable parts (month, KB, build, versions) replaced."""
    shape = re.sub(r"\d{4}-\d{2}", "YYYY-MM", title)
    shape = re.sub(r"KB\d+", "KBn", shape)
    shape = re.sub(r"\(\d{5}\.\d+\)", "(BUILD)", shape)
    return re.sub(r"\d+(\.\d+)+", "V", shape)


def test_titles_have_the_recorded_forms():
    from tests.lab import titles

    recorded = yaml.safe_load((SAMPLES / "titles.yml").read_text())
    shapes = {}
    for sample in recorded:
        shapes.setdefault(sample["form"], set()).add(_shape(sample["title"]))
    row = {"kb": "KB5000000", "build": 1234, "simulated": False}
    generated = {
        "lcu_2019": titles.monthly("2019", dict(row, month="2021-05", kind="lcu"), "AMD64", "realistic"),
        "lcu_2022": titles.monthly("2022", dict(row, month="2025-07", kind="baseline"), "AMD64", "realistic"),
        "lcu_2025_catalog": titles.monthly(
            "2025", dict(row, month="2025-07", kind="baseline"), "AMD64", "realistic"
        ),
        "lcu_2025_simplified": titles.monthly(
            "2025", dict(row, month="2026-06", kind="lcu", build=32995), "AMD64", "realistic"
        ),
        "dotnet_2025_catalog": titles.dotnet("2025", "2025-10", "KB5066131", "AMD64"),
        "dotnet_simplified": titles.dotnet("2025", "2026-08", "KB5120710", "AMD64"),
        "defender": titles.defender("1.459.86.0", "2026-08"),
        "defender_2021": titles.defender("1.339.1923.0", "2021-05"),
        "msrt": titles.msrt("2026-08", "AMD64"),
    }
    for form, title in generated.items():
        assert _shape(title) in shapes[form], (form, title, shapes[form])
    assert (
        titles.msrt("2026-08", "AMD64") == "Windows Malicious Software Removal Tool x64 - v5.144 (KB890830)"
    )
    # no public title of a Server hotpatch: the lab uses several forms, one of them without the word Hotpatch
    forms = {
        titles.monthly("2025", dict(row, month="2026-02", kind="hotpatch"), "AMD64", "realistic", f)
        for f in titles.HOTPATCH_FORMS
    }
    assert len(forms) == 3 and any("Hotpatch" not in t for t in forms)


def test_what_get_hotfix_lists():
    lab = hosts(
        "2026-03-11T02:00:00Z",
        {"hp": {"os": "2025", "build": "26100.32313"}, "plain": {"os": "2019", "platform": "on_premises"}},
    )
    # on a hotpatch: the quarter's baseline and the hotpatch; on the regular line: its cumulative update
    assert {"KB5073379", "KB5075942"} <= set(lab["hp"].probe_facts()["hotfixes"])
    expected = catalog.default_catalog().monthly("2019", "2026-02", "lcu")["kb"]
    assert expected in lab["plain"].probe_facts()["hotfixes"]


@pytest.mark.parametrize("build", ["latest"])
def test_symbolic_build_latest(build):
    lab = hosts("2026-07-20T02:00:00Z", {"done": {"os": "2025", "build": build}, "behind": {"os": "2025"}})
    july = catalog.default_catalog().monthly("2025", "2026-07", "baseline")
    assert lab["done"].ubr == july["build"] and kbs(lab["done"]) == []
    assert kbs(lab["behind"]) == [july["kb"]]
