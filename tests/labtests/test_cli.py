"""The command line: start, ledger, stop, and clear errors for bad fleet files."""

import json
import subprocess
import sys

import yaml

from tests.labtests.helpers import FLEETS, REPO


def lab(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.lab", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_start_ledger_stop(tmp_path):
    state = tmp_path / "state"
    started = lab("start", "--fleet", FLEETS / "demo.yml", "--state", state)
    try:
        assert started.returncode == 0, started.stderr
        inventory = yaml.safe_load((state / "inventory.yml").read_text())
        hosts = inventory["all"]["children"]["windows"]["hosts"]
        demo = yaml.safe_load((FLEETS / "demo.yml").read_text())["hosts"]
        assert set(hosts) == set(demo)
        for name, entry in hosts.items():
            assert entry["ansible_connection"] == "winrm" and entry["ansible_host"] == "127.0.0.1"
            assert entry["ansible_winrm_transport"] == "basic" and entry["ansible_winrm_scheme"] == "http"
            for key, value in demo[name].get("vars", {}).items():
                assert entry[key] == value
        again = lab("start", "--fleet", FLEETS / "demo.yml", "--state", state)
        assert again.returncode == 2 and "already running" in again.stderr
        summary = json.loads(lab("ledger", "--state", state).stdout)
        assert summary["restarts"] == {} and summary["max_down"] == 0
    finally:
        stopped = lab("stop", "--state", state)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert "no lab was running" in lab("stop", "--state", state).stdout


def test_https_and_fleet_credentials(tmp_path):
    fleet = tmp_path / "fleet.yml"
    fleet.write_text(
        yaml.safe_dump(
            {
                "date": "2026-02-12T02:00:00Z",
                "https": True,
                "credentials": {"user": "labadmin", "password": "Fleet-Pw1"},
                "hosts": {"h1": {"os": "2025"}},
            }
        )
    )
    state = tmp_path / "state"
    try:
        assert lab("start", "--fleet", fleet, "--state", state).returncode == 0
        entry = yaml.safe_load((state / "inventory.yml").read_text())["all"]["children"]["windows"]["hosts"][
            "h1"
        ]
        assert entry["ansible_winrm_scheme"] == "https"
        assert entry["ansible_winrm_server_cert_validation"] == "validate"
        assert (state / "ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
        assert entry["ansible_winrm_ca_trust_path"] == str(state / "ca.pem")
        assert (entry["ansible_user"], entry["ansible_password"]) == ("labadmin", "Fleet-Pw1")
    finally:
        lab("stop", "--state", state)


def test_bad_fleet_is_a_clear_error(tmp_path):
    fleet = tmp_path / "fleet.yml"
    fleet.write_text("date: '2026-02-12T02:00:00Z'\nhosts:\n  web01:\n    os: '2025'\n    colour: blue\n")
    result = lab("start", "--fleet", fleet, "--state", tmp_path / "state")
    assert result.returncode == 2
    assert "host web01: unknown keys ['colour']" in result.stderr and "Traceback" not in result.stderr
    missing = lab("start", "--fleet", tmp_path / "nope.yml", "--state", tmp_path / "state")
    assert missing.returncode == 2 and "cannot read fleet file" in missing.stderr
