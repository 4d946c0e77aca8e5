"""hotpatch.windows.enable on the lab (fleets/enable.yml): --check lists exactly what would change per host; a
real run brings VBS-off hosts, an Arm64 host with CHPE on and unlicensed Arc machines to hotpatch-eligible,
restarting only the hosts that changed, within patch_batch_size and patch_max_per_group; a second run changes
nothing. The lab is the judge (its state and ledger); tests/integration/conftest.py also checks every restart
against the restart-safety invariant (a `pending` change and a restart decision that names it)."""

import json
from pathlib import Path

import pytest

from tests.integration.faults.runs import read_records, run_playbook
from tests.lab import Lab

FLEET = Path(__file__).resolve().parent / "fleets" / "enable.yml"
CAPS = {"patch_batch_size": 2, "patch_max_per_group": 1}
# host: (what --check says would change, restarts in the real run)
EXPECTED = {
    "vbs01": (["EnableVirtualizationBasedSecurity=1", "RequirePlatformSecurityFeatures=1"], 1),
    "vbs02": (["EnableVirtualizationBasedSecurity=1", "RequirePlatformSecurityFeatures=1"], 1),
    "arm01": (["HotPatchRestrictions=1"], 1),
    "arc01": (["PUT the Hotpatch licence feature of arc01"], 0),
    "arc02": (["EnableVirtualizationBasedSecurity=1", "then PUT the Hotpatch licence feature"], 1),
    "gen1": (["needs UEFI with Secure Boot"], 0),
    "ok01": (["already eligible"], 0),
}


class Runs:
    """The three runs on one lab: their processes, the report records, and the ledger split by run."""

    def __init__(self, work: Path):
        self.work = work
        self.procs, self.records, self.ledgers = {}, {}, {}

    def run(self, lab, name: str, *args, confirm=True):
        variables = dict(CAPS, hotpatch_report_dir=str(self.work / name / "report"))
        if confirm:
            variables["enable_confirm"] = True
        start = lab.now()
        self.procs[name] = run_playbook(
            "hotpatch.windows.enable", lab.inventory, self.work / name, variables, *args
        )
        self.ledgers[name] = lab.ledger().between(start, lab.now())
        self.records[name] = read_records(self.work / name / "report" / "latest")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("enable")
    result = Runs(work)
    with Lab(FLEET, work / "lab") as lab:
        result.before = lab.state()
        result.run(lab, "unconfirmed", confirm=False)
        result.run(lab, "check", "--check", confirm=False)
        result.after_check = lab.state()
        result.run(lab, "real")
        result.after = lab.state()
        result.run(lab, "again")
        result.final = lab.state()
        result.inventory = lab.inventory.read_text()
    return result


def events(ledger, kind):
    return [event for event in ledger.events if event["event"] == kind]


def test_a_real_run_needs_confirmation(runs):
    proc = runs.procs["unconfirmed"]
    assert proc.returncode == 2, proc.stdout[-2000:]
    assert "enable refused" in proc.stdout and "enable_confirm=true" in proc.stdout
    assert events(runs.ledgers["unconfirmed"], "registry_set") == []


@pytest.mark.parametrize("host", sorted(EXPECTED))
def test_check_lists_exactly_what_would_change(runs, host):
    record = runs.records["check"][host]
    for fragment in EXPECTED[host][0]:
        assert fragment in record["message"], record["message"]
    status = {"gen1": "refused", "ok01": "unchanged"}.get(host, "check_mode")
    assert record["status"] == status and record["restarted"] is False
    if EXPECTED[host][1]:
        assert record["wave"] is not None, record  # which restart wave it would go into
        assert "restart in a wave" in record["message"]


def test_check_changes_nothing(runs):
    ledger = runs.ledgers["check"]
    assert runs.procs["check"].returncode == 0, runs.procs["check"].stdout[-3000:]
    assert events(ledger, "registry_set") == [] and ledger.restarts() == {}
    assert [e["method"] for e in events(ledger, "arm_request")] == ["GET", "GET"]  # read-only, both Arc hosts
    assert runs.after_check == runs.before or all(
        runs.after_check[h]["hotpatch_eligible"] == runs.before[h]["hotpatch_eligible"] for h in runs.before
    )


def test_real_run_brings_the_fleet_to_eligible(runs):
    assert runs.procs["real"].returncode == 0, runs.procs["real"].stdout[-3000:]
    for host, state in runs.after.items():
        assert state["hotpatch_eligible"] is (host != "gen1"), (host, state)
    assert runs.after["vbs01"]["vbs"] == "running" and runs.after["arc02"]["vbs"] == "running"
    assert runs.after["arm01"]["chpe"] is False
    assert runs.after["arc01"]["hotpatch_license"] == runs.after["arc02"]["hotpatch_license"] == "enabled"
    assert runs.after["gen1"]["vbs"] == "off"


def test_only_the_hosts_that_changed_restart_within_the_caps(runs):
    ledger = runs.ledgers["real"]
    assert ledger.restarts() == {host: count for host, (_, count) in EXPECTED.items() if count}
    assert ledger.max_down() <= CAPS["patch_batch_size"]
    assert all(down <= CAPS["patch_max_per_group"] for down in ledger.max_down_per_group().values())
    # every restart followed the change that needed it (the lab's pending event)
    for host in ledger.restarts():
        kinds = [e["event"] for e in ledger.events if e["host"] == host]
        assert kinds.index("pending") < kinds.index("restart_down"), kinds
    assert {e["host"] for e in events(ledger, "registry_set")} == {"vbs01", "vbs02", "arm01", "arc02"}


def test_licence_after_vbs_and_only_where_needed(runs):
    ledger = runs.ledgers["real"]
    changes = [e for e in events(ledger, "arm_request") if e["method"] in ("PUT", "PATCH")]
    assert sorted((e["host"], e["method"], e["status"]) for e in changes) == [
        ("arc01", "PUT", 201),
        ("arc02", "PUT", 201),
    ]
    arc02 = [e for e in ledger.events if e["host"] == "arc02" and e["event"] in ("restart_up", "arm_request")]
    assert [e["event"] for e in arc02].index("restart_up") < [e.get("method") for e in arc02].index(
        "PUT"
    )  # VBS runs before the licence is asked for
    assert all(e["feature"] in ("Enabling", "Enabled") for e in changes)


def test_real_run_report(runs):
    records = runs.records["real"]
    assert {host: records[host]["status"] for host in EXPECTED} == {
        "vbs01": "restarted",
        "vbs02": "restarted",
        "arm01": "restarted",
        "arc01": "enabled",
        "arc02": "restarted",
        "gen1": "refused",
        "ok01": "unchanged",
    }
    assert "VirtualizationBasedSecurityStatus 2" in records["vbs01"]["message"]
    assert "CHPE off" in records["arm01"]["message"]
    assert "Hotpatch licence feature" in records["arc02"]["message"]
    assert all(record["action"] in ("enable", "none") for record in records.values())
    fleet = json.loads((runs.work / "real" / "report" / "latest" / "fleet.json").read_text())
    assert fleet["phase"] == "enable" and fleet["by_action"]["enable"] == 5


def test_second_run_changes_nothing(runs):
    ledger = runs.ledgers["again"]
    assert runs.procs["again"].returncode == 0, runs.procs["again"].stdout[-3000:]
    assert events(ledger, "registry_set") == [] and ledger.restarts() == {}
    assert [e["method"] for e in events(ledger, "arm_request")] == ["GET", "GET"]
    statuses = {host: record["status"] for host, record in runs.records["again"].items()}
    assert statuses == {host: ("refused" if host == "gen1" else "unchanged") for host in EXPECTED}
    assert runs.final == runs.after or all(
        runs.final[h]["hotpatch_eligible"] for h in runs.final if h != "gen1"
    )


def test_the_token_is_never_logged(runs):
    token = "lab-arm-token-enable"
    assert token in runs.inventory
    for name, proc in runs.procs.items():
        assert token not in proc.stdout + proc.stderr, name
    for name in runs.records:
        for path in (runs.work / name / "report").rglob("*"):
            if path.is_file():
                assert token not in path.read_text(errors="replace"), path
