"""Secrets: the hosts' password never shows in any output, log, ansible-runner artifact or report file, with
WinRM over HTTPS and certificate validation on (the lab's HTTPS mode and certificate authority).

The playbooks assess, patch and rollback run against a lab whose password is known, at -vvv, with
ANSIBLE_LOG_PATH set; patch runs a second time through ansible-runner (AWX's engine), whose artifacts are
searched too. The only file that may hold the password is the inventory the lab wrote (it is the input).
The patch runs also check a health URL that holds user:password (the issue's field case): a local server
answers it only with the right Basic credentials, so the check really ran with them, and the password it
carries is searched for like the hosts' one. The URL reaches ansible-playbook from a vars file outside the
searched folder (it is input, like the inventory).
Also: every WinRM example the collection ships (documentation code blocks and YAML) keeps HTTPS and
certificate validation on.
"""

import base64
import http.server
import os
import re
import threading
import urllib.parse
from pathlib import Path

import pytest
import yaml

from tests.integration.faults.runs import BIN, ansible_env, run_playbook, scenario
from tests.lab import Lab

REPO = Path(__file__).resolve().parents[2]
USER = "Administrator"
PASSWORD = "Kn0wn#Secret!pa55-7f3a"
FLEET = {
    "date": "2026-02-12T02:00:00Z",
    "boot_seconds": 1,
    "windows_update": {},  # Windows Update as a function of state: DISM lists packages for the rollback
    "hosts": {
        "web01": {"os": "2025", "platform": "azure"},
        "sql01": {"os": "2022", "platform": "on_premises", "vars": {"hotpatch_availability_group": "sql"}},
    },
}


def secret_forms() -> dict:
    """The password as it could leak: plain, in a Basic authorization header, URL- or JSON-escaped."""
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return {
        "plain": PASSWORD,
        "basic auth header": basic,
        "url-quoted": urllib.parse.quote(PASSWORD),
        "utf-16 base64 (-EncodedCommand)": base64.b64encode(PASSWORD.encode("utf-16-le")).decode(),
    }


def leaks(path: Path) -> list:
    data = path.read_bytes()
    found = []
    for name, form in secret_forms().items():
        if form.encode() in data or form.encode("utf-16-le") in data:
            found.append(f"{path}: {name}")
    return found


def run_with_runner(work: Path, inventory: Path, extra_vars: dict):
    """hotpatch.windows.patch through ansible-runner, as AWX runs it; returns (rc, runner directory)."""
    import ansible_runner

    private = work / "runner"
    (private / "project").mkdir(parents=True)
    (private / "project" / "patch.yml").write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Run the collection's patch playbook",
                    "ansible.builtin.import_playbook": "hotpatch.windows.patch",
                }
            ]
        )
    )
    env = ansible_env(work, ANSIBLE_LOG_PATH=work / "runner-ansible.log")
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    result = ansible_runner.run(
        private_data_dir=str(private),
        playbook="patch.yml",
        inventory=str(inventory),
        extravars=extra_vars,
        envvars={key: value for key, value in env.items() if key.startswith("ANSIBLE_") or key == "PATH"},
        verbosity=3,
        quiet=True,
    )
    return result.rc, private


class HealthServer(http.server.ThreadingHTTPServer):
    """A health URL that answers 200 only to Basic credentials USER:PASSWORD (401 otherwise)."""

    def __init__(self):
        self.seen = []  # (path, authorized)
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(handler):
                ok = handler.headers.get("Authorization") == expected
                self.seen.append((handler.path, ok))
                handler.send_response(200 if ok else 401)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


@scenario("secrets", order=5)
def secrets_scenario(work):
    report = work / "report"
    log = work / "ansible.log"
    common = {"hotpatch_report_dir": str(report), "patch_reboot_timeout": 120}
    health = HealthServer()
    # input, like the inventory: kept outside the searched folder
    health_vars = work.parent / f"{work.name}-input" / "health.yml"
    health_vars.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://{USER}:{urllib.parse.quote(PASSWORD, safe='')}@127.0.0.1:{health.server_address[1]}/health"
    health_vars.write_text(yaml.safe_dump({"patch_health_urls": [url], "patch_health_delay": 1}))
    with Lab(FLEET, work / "lab", https=True, password=PASSWORD) as lab:
        inventory = lab.inventory
        procs = {
            "assess": run_playbook(
                "hotpatch.windows.assess", inventory, work / "assess", common, "-vvv", ANSIBLE_LOG_PATH=log
            ),
            "patch": run_playbook(
                "hotpatch.windows.patch",
                inventory,
                work / "patch",
                common,
                "-vvv",
                "-e",
                f"@{health_vars}",
                ANSIBLE_LOG_PATH=log,
            ),
            "rollback": run_playbook(
                "hotpatch.windows.rollback",
                inventory,
                work / "rollback",
                dict(common, rollback_confirm=True, rollback_reboot_timeout=120),
                "-vvv",
                "--limit",
                "web01",
                ANSIBLE_LOG_PATH=log,
            ),
        }
        runner_rc, runner_dir = run_with_runner(work, inventory, common)
        inventory_text = inventory.read_text()
        ledger = lab.ledger()
    health.shutdown()
    return {
        "health_seen": list(health.seen),
        "work": work,
        "procs": procs,
        "runner_rc": runner_rc,
        "runner_dir": runner_dir,
        "inventory": inventory_text,
        "report": report,
        "log": log,
        "ledger": ledger,
    }


@pytest.fixture(scope="module")
def runs(lab_scenarios):
    return lab_scenarios.get("secrets")


def test_lab_runs_https_with_certificate_validation(runs):
    hosts = yaml.safe_load(runs["inventory"])["all"]["children"]["windows"]["hosts"]
    for host, hostvars in hosts.items():
        assert hostvars["ansible_winrm_scheme"] == "https", host
        assert hostvars["ansible_winrm_server_cert_validation"] == "validate", host
        assert Path(hostvars["ansible_winrm_ca_trust_path"]).is_file(), host
    assert PASSWORD in runs["inventory"]  # the input does hold it: the search below would find a leak


def test_playbooks_ran_over_https(runs):
    for name, proc in runs["procs"].items():
        assert proc.returncode == 0, f"{name}: {proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
    assert runs["runner_rc"] == 0
    # the playbooks really reached the hosts: updates installed and the rollback removed one
    assert runs["ledger"].installs().get("web01") and runs["ledger"].uninstalls().get("web01")


def test_health_url_credentials_were_used_and_stay_secret(runs):
    """sql01 restarts (no hotpatch for an on-premises 2022): its health check asked the URL with the
    credentials the URL carried, as Basic authorization; test_password_is_in_no_* search for them."""
    assert runs["ledger"].restarts().get("sql01"), runs["ledger"].restarts()
    assert ("/health", True) in runs["health_seen"], runs["health_seen"]
    assert all(ok for _, ok in runs["health_seen"]), runs["health_seen"]


def test_password_is_in_no_output(runs):
    found = []
    for name, proc in runs["procs"].items():
        for stream, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            found += [f"{name} {stream}: {form}" for form, value in secret_forms().items() if value in text]
    assert not found, found


def test_password_is_in_no_log_artifact_or_report(runs):
    work = runs["work"]
    lab_inventory = (work / "lab" / "inventory.yml").resolve()
    files = [p for p in work.rglob("*") if p.is_file() and p.resolve() != lab_inventory]
    searched = {p.relative_to(work).parts[0] for p in files}
    assert {"report", "runner", "ansible.log", "patch", "assess", "rollback"} <= searched, searched
    assert runs["log"].stat().st_size > 0 and any((runs["runner_dir"] / "artifacts").rglob("job_events/*"))
    assert (runs["report"] / "latest" / "fleet.json").is_file()
    found = [leak for path in files for leak in leaks(path)]
    assert not found, found


EXAMPLE_SOURCES = [
    "README.md",
    "docs/*.md",
    "roles/*/README.md",
    "playbooks/*.yml",
    "extensions/**/*.yml",
    "examples/**/*",
]
NOT_EXAMPLES = {"docs/lab.md"}  # the lab's own manual describes its plain-HTTP test mode


def example_texts():
    """(file, text) of each shipped example: fenced code blocks of documentation, whole YAML files."""
    for pattern in EXAMPLE_SOURCES:
        for path in sorted(REPO.glob(pattern)):
            relative = path.relative_to(REPO).as_posix()
            if not path.is_file() or relative in NOT_EXAMPLES:
                continue
            text = path.read_text(errors="replace")
            if path.suffix == ".md":
                for block in re.findall(r"```[^\n]*\n(.*?)```", text, re.DOTALL):
                    yield relative, block
            else:
                yield relative, text


def test_every_example_keeps_https_and_certificate_validation():
    bad = []
    for relative, text in example_texts():
        for match in re.finditer(
            r"(ansible_winrm_server_cert_validation|ansible_winrm_scheme)\s*[:=]\s*['\"]?(\w+)", text
        ):
            key, value = match.groups()
            if (key.endswith("validation") and value != "validate") or (
                key.endswith("scheme") and value != "https"
            ):
                bad.append(f"{relative}: {key}: {value}")
        if re.search(r"validate_certs\s*[:=]\s*(false|no)\b", text, re.IGNORECASE):
            bad.append(f"{relative}: validate_certs off")
    assert not bad, bad
