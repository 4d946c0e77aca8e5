"""The real ansible-core winrm connection and ansible.windows modules against the lab, on this ansible-core
and on an older supported one, with the ledger recording what happened."""

import subprocess

from tests.lab import Lab
from tests.labtests.helpers import ansible_env, run_playbook

FLEET = {
    "date": "2026-02-12T02:00:00Z",
    "boot_seconds": 1,
    "hosts": {
        # eligible, on the January 2026 baseline: February's hotpatch installs with no restart
        "hp01": {"os": "2025", "platform": "azure", "vars": {"hotpatch_availability_group": "web"}},
        # Windows Server 2019 on premises: February's (simulated) cumulative update, restart
        "lcu01": {
            "os": "2019",
            "platform": "on_premises",
            "vars": {"hotpatch_availability_group": "web"},
            "updates": [
                {
                    "kb": "KB5099100",
                    "title": "Driver update (KB5099100)",
                    "classification": "Drivers",
                    "reboot": True,
                }
            ],
        },
    },
}
HOTPATCH_KB = "KB5075942"  # 2026-02 hotpatch of Windows Server 2025: 26100.32313


def test_ping_updates_reboot(ansible_bin, tmp_path):
    tasks = [
        {"name": "ping", "ansible.windows.win_ping": {}},
        {"name": "search", "ansible.windows.win_updates": {"state": "searched", "category_names": ["*"]}},
        {
            "name": "install security updates",
            "ansible.windows.win_updates": {
                "category_names": ["SecurityUpdates"],
                "reboot": True,
                "reboot_timeout": 120,
            },
        },
        {
            "name": "reboot the hotpatched host",
            "ansible.windows.win_reboot": {"pre_reboot_delay": 0},
            "when": "inventory_hostname == 'hp01'",
        },
        {
            "name": "search again",
            "ansible.windows.win_updates": {"state": "searched", "category_names": ["*"]},
        },
    ]
    with Lab(FLEET, tmp_path / "lab") as lab:
        results = run_playbook(ansible_bin, lab.inventory, tasks, tmp_path, strategy="free")
        ledger = lab.ledger()
        assert results["_stats"]["hp01"]["failures"] == 0, results["hp01"]
        assert results["_stats"]["lcu01"]["failures"] == 0, results["lcu01"]
        ping, search, install, reboot, again = results["hp01"]
        assert ping["ping"] == "pong"
        titles = [u["title"] for u in search["updates"].values()]
        assert len(titles) == 1 and "Hotpatch" in titles[0] and HOTPATCH_KB in titles[0]
        assert install["changed"] and install["installed_update_count"] == 1
        assert install["reboot_required"] is False and install["rebooted"] is False
        assert reboot["rebooted"] is True
        assert again["found_update_count"] == 0

        ping, search, install, _skipped, again = results["lcu01"]
        found = {u["title"]: u["categories"] for u in search["updates"].values()}
        assert len(found) == 2 and any("Cumulative Update" in t and "simulated" in t for t in found)
        assert install["installed_update_count"] == 1 and install["rebooted"] is True
        assert next(iter(install["filtered_updates"].values()))["filtered_reasons"] == ["category_names"]
        assert [u["kb"] for u in again["updates"].values()] == [["5099100"]]  # only the driver is left

        assert ledger.installs() == {"hp01": [HOTPATCH_KB], "lcu01": ["KB9912602"]}
        assert ledger.restarts() == {"hp01": 1, "lcu01": 1}
        ups = [e for e in ledger.events if e["event"] == "restart_up"]
        assert {e["host"]: e["build"] for e in ups} == {"hp01": "26100.32313", "lcu01": "17763.6829"}
        assert ledger.max_down_per_group()["web"] >= 1
        assert all(e["group"] == "web" for e in ledger.events if e["event"].startswith("restart"))


def test_setup_facts(main_bin, tmp_path):
    with Lab(FLEET, tmp_path / "lab") as lab:
        results = run_playbook(main_bin, lab.inventory, [{"ansible.windows.setup": {}}], tmp_path)
    facts = results["hp01"][0]["ansible_facts"]
    assert facts["ansible_hostname"] == "HP01" and facts["ansible_os_family"] == "Windows"
    assert facts["ansible_distribution"] == "Microsoft Windows Server 2025 Datacenter: Azure Edition"
    assert facts["ansible_kernel"].startswith("10.0.26100")
    assert facts["ansible_date_time"]["date"] == "2026-02-12"
    assert (
        results["lcu01"][0]["ansible_facts"]["ansible_distribution"]
        == "Microsoft Windows Server 2019 Datacenter"
    )


def test_win_updates_filters(main_bin, tmp_path):
    searches = {
        "category_names": {"category_names": ["Drivers"]},
        "accept_list": {"category_names": ["*"], "accept_list": ["KB5099100"]},
        "reject_list": {"category_names": ["*"], "reject_list": ["Cumulative"]},
    }
    tasks = [{"ansible.windows.win_updates": dict(args, state="searched")} for args in searches.values()]
    with Lab(FLEET, tmp_path / "lab") as lab:
        results = run_playbook(main_bin, lab.inventory, tasks, tmp_path, hosts="lcu01")["lcu01"]
    for arg, result in zip(searches, results, strict=True):
        assert [u["kb"] for u in result["updates"].values()] == [["5099100"]], arg
        filtered = list(result["filtered_updates"].values())
        assert len(filtered) == 1 and filtered[0]["filtered_reasons"] == [arg]


def test_adhoc_win_ping(ansible_bin, tmp_path):
    with Lab(FLEET, tmp_path / "lab") as lab:
        proc = subprocess.run(
            [
                str(ansible_bin / "ansible"),
                "-i",
                str(lab.inventory),
                "windows",
                "-m",
                "ansible.windows.win_ping",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=ansible_env({"ANSIBLE_STDOUT_CALLBACK": "default"}),
        )
        commands = lab.ledger().events
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("SUCCESS") == 2 and '"ping": "pong"' in proc.stdout
    assert {e["host"] for e in commands if e.get("what") == "module:win_ping"} == {"hp01", "lcu01"}


def test_https_with_certificate_validation(main_bin, tmp_path):
    with Lab(FLEET, tmp_path / "lab", https=True, password="Tls-Passw0rd") as lab:
        results = run_playbook(main_bin, lab.inventory, [{"ansible.windows.win_ping": {}}], tmp_path)
        assert results["hp01"][0]["ping"] == "pong" and results["lcu01"][0]["ping"] == "pong"
        # the same inventory without the lab's CA: the certificate is not trusted
        text = lab.inventory.read_text().replace("ansible_winrm_ca_trust_path", "unused_ca_path")
        untrusted = tmp_path / "untrusted.yml"
        untrusted.write_text(text)
        results = run_playbook(
            main_bin,
            untrusted,
            [{"ansible.windows.win_ping": {}}],
            tmp_path,
            extra_env={"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": ""},
        )
    assert results["hp01"][0]["unreachable"] is True
    assert "certificate verify failed" in results["hp01"][0]["msg"]
