"""200 simulated hosts in one lab process on a small machine: all listen, all answer, Ansible reaches all."""

import concurrent.futures
import time

import winrm

from tests.lab import Lab
from tests.labtests.helpers import run_playbook

HOSTS = 200


def fleet() -> dict:
    oses = ["2025", "2022", "2019", "2016"]
    hosts = {}
    for index in range(HOSTS):
        os_name = oses[index % 4]
        hosts[f"srv{index:03d}"] = {
            "os": os_name,
            "platform": "azure" if os_name in ("2022", "2025") else "on_premises",
            "vars": {"hotpatch_availability_group": f"g{index % 10}"},
        }
    return {"date": "2026-02-12T02:00:00Z", "hosts": hosts}


def hostname(port: int) -> bytes:
    sess = winrm.Session(
        f"http://127.0.0.1:{port}/wsman", auth=("Administrator", "Lab-Passw0rd!"), transport="basic"
    )
    return sess.run_cmd("hostname").std_out


def test_two_hundred_hosts(tmp_path, main_bin):
    started = time.monotonic()
    with Lab(fleet(), tmp_path / "lab") as lab:
        assert time.monotonic() - started < 30
        ports = lab.ports()
        assert len(ports) == HOSTS
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            names = list(pool.map(hostname, ports.values()))
        assert names == [f"{name.upper()}\r\n".encode() for name in ports]
        # Ansible itself is the slow part: it reaches a quarter of the fleet, pywinrm reached all of it
        results = run_playbook(
            main_bin,
            lab.inventory,
            [{"ansible.windows.win_ping": {}}],
            tmp_path,
            timeout=600,
            hosts="windows[0:49]",
            extra_env={"ANSIBLE_FORKS": "25"},
        )
        assert all(
            stats["failures"] == 0 and stats["unreachable"] == 0 for stats in results["_stats"].values()
        )
        assert len(results["_stats"]) == HOSTS // 4
    counters = lab.ledger().counters()  # written in full when the lab stops
    assert sum(c["commands"] for c in counters.values()) >= HOSTS + HOSTS // 4
