"""Time over real WinRM: the lab clock moves forward (Python API and command line) and Windows Update's
offers move with it; the timing model makes installs and restarts take their lab time, and the ledger's time
helpers read a rollout's length, each host's downtime and the exposure of each security update."""

import datetime
import subprocess
import sys

from tests.lab import Lab
from tests.labtests.helpers import REPO, run_playbook

QUIET = {"defender": False, "msrt": False, "dotnet": False, "preview": False}
SEARCH = {"name": "search", "ansible.windows.win_updates": {"state": "searched", "category_names": ["*"]}}


def kbs(result) -> list:
    return sorted(k for u in result["updates"].values() for k in u["kb"])


def test_advance_moves_the_offers(main_bin, tmp_path):
    fleet = {
        "date": "2026-02-12T02:00:00Z",
        "windows_update": QUIET,
        "hosts": {"hp01": {"os": "2025"}, "plain01": {"os": "2025", "vbs": "off"}},
    }
    with Lab(fleet, tmp_path / "lab") as lab:
        feb = run_playbook(main_bin, lab.inventory, [SEARCH], tmp_path)
        assert kbs(feb["hp01"][0]) == ["5075942"] and kbs(feb["plain01"][0]) == ["5075899"]
        now = lab.advance(patch_tuesday=True, after=datetime.timedelta(hours=2))
        assert now.isoformat().startswith("2026-03-10T02:00")
        march = run_playbook(main_bin, lab.inventory, [SEARCH], tmp_path)
        assert kbs(march["hp01"][0]) == ["5078736"] and kbs(march["plain01"][0]) == ["5078740"]
        cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.lab",
                "advance",
                "--state",
                str(lab.state_dir),
                "--to",
                "2026-04-15T00:00:00Z",
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
        assert cli.returncode == 0 and "2026-04-15T00:00" in cli.stdout, cli.stderr
        back = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.lab",
                "advance",
                "--state",
                str(lab.state_dir),
                "--to",
                "2026-01-01T00:00:00Z",
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
        assert back.returncode == 2 and "already at" in back.stderr
        state = lab.state("hp01", "plain01")
        assert state["hp01"]["cycle"] == "2026-04" and [u["kb"] for u in state["hp01"]["offered"]] == [
            "KB5082063"
        ]
        assert [e["event"] for e in lab.ledger().events if e["host"] == "lab"] == ["advance", "advance"]


def test_timing_model_and_ledger_helpers(main_bin, tmp_path):
    scale = 0.002  # a lab second lasts 2 ms: a 900 s install takes 1.8 s, a 180 s boot 0.36 s
    fleet = {
        "date": "2026-02-12T02:00:00Z",
        "timing": {"scale": scale},
        "windows_update": QUIET,
        "hosts": {"hp01": {"os": "2025"}, "lcu01": {"os": "2022", "platform": "on_premises"}},
    }
    install = {
        "name": "install",
        "ansible.windows.win_updates": {
            "category_names": ["SecurityUpdates"],
            "reboot": True,
            "reboot_timeout": 300,
        },
    }
    with Lab(fleet, tmp_path / "lab") as lab:
        start = lab.now()
        results = run_playbook(main_bin, lab.inventory, [install], tmp_path, strategy="free")
        end = lab.now()
        assert results["_stats"]["hp01"]["failures"] == 0 and results["_stats"]["lcu01"]["failures"] == 0
        ledger = lab.ledger().between(start, end)
        installs = {i["host"]: i for i in ledger.timed_installs()}
        assert installs["hp01"]["kb"] == "KB5075942" and installs["lcu01"]["kb"] == "KB5075906"
        elapsed = {
            host: (datetime.datetime.fromisoformat(i["time"].replace("Z", "+00:00")) - start).total_seconds()
            for host, i in installs.items()
        }
        # search 60 s, then download and install: hotpatch 60 + 120 s, cumulative update 300 + 900 s
        assert elapsed["hp01"] >= 60 + 60 + 120 and elapsed["lcu01"] >= 60 + 300 + 900
        assert elapsed["lcu01"] > elapsed["hp01"]
        downtime = ledger.downtime()
        assert set(downtime) == {"lcu01"} and 170 <= downtime["lcu01"] <= 400  # 180 s boot
        assert ledger.span()["seconds"] >= elapsed["lcu01"] + downtime["lcu01"]
        exposure = ledger.exposure()
        days = exposure["lcu01"][0]["days"]
        assert exposure["lcu01"][0]["released"] == "2026-02-10" and 2.0 < days < 2.2
        assert ledger.most_down_at_once() == 1
