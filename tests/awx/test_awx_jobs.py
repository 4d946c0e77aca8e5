"""The job templates of extensions/awx run through ansible-runner (the engine of AWX / Automation
Controller) against the lab, with what the controller sends: the template's extra vars, survey answers as
the controller types them, awx_job_id, check mode as the job type, credentials; and read back as the
controller does: job events, host summaries and set_stats artifacts."""

import json
from pathlib import Path

import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.awx.controller import load_config
from tests.awx.jobs import launch_vars, localhost_inventory, run_job
from tests.conftest import INSTALLED
from tests.lab import Lab

# A February 2026 hotpatch month: web01 takes the hotpatch without a restart, web02 also has a .NET update
# that needs a restart (deferred by default), app01 is not eligible (conventional update and restart).
ELIGIBLE = {
    "os": "2025",
    "platform": "azure",
    "image": {
        "publisher": "MicrosoftWindowsServer",
        "offer": "WindowsServer",
        "sku": "2025-Datacenter-Azure-Edition-Core",
    },
    "boot_seconds": 1,
}
FLEET = {
    "date": "2026-02-12T02:00:00Z",
    "hosts": {
        "web01": dict(ELIGIBLE, vars={"hotpatch_availability_group": "web"}),
        "web02": dict(
            ELIGIBLE,
            updates=[
                {
                    "kb": "KB5099001",
                    "title": "2026-02 Cumulative Update for .NET Framework 3.5 and 4.8.1 (KB5099001)",
                    "classification": "Updates",
                    "reboot": True,
                }
            ],
            vars={"hotpatch_availability_group": "web"},
        ),
        "app01": dict(
            ELIGIBLE,
            image={"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2025-Datacenter"},
            vars={"hotpatch_availability_group": "app"},
        ),
    },
}


@pytest.fixture
def work(tmp_path):
    localhost_inventory(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with Lab(FLEET, tmp_path_factory.mktemp("lab")) as running:
        yield running


def _ok(job):
    assert job.status == "successful", job.stdout()[-3000:]
    return job


def test_assess_template_like_awx(lab, work):
    root = work / "reports"
    job = _ok(run_job(work, "playbooks/assess.yml", lab.inventory, launch_vars("Hotpatch - assess", {
        "hotpatch_awx_report_root": str(root),
    }), template_name="Hotpatch - assess"))  # fmt: skip

    kinds = {event["event"] for event in job.events}
    assert {"playbook_on_start", "playbook_on_play_start", "runner_on_ok", "playbook_on_stats"} <= kinds
    # Host summary: every host, none failed or unreachable.
    assert set(job.host_summary) == set(FLEET["hosts"])
    assert all(s["failures"] == 0 and s["dark"] == 0 for s in job.host_summary.values())
    # Per-host results: the plan of every host, from the job events.
    plans = job.facts("hotpatch_plan")
    assert {h: p["action"] for h, p in plans.items()} == {
        "web01": "hotpatch",
        "web02": "hotpatch",
        "app01": "conventional",
    }
    assert job.dynamic_groups()["hotpatch_month"] == {"web01", "web02"}
    # The set_stats artifact the next workflow node gets, and the template's per-job report directory.
    summary = job.artifacts["hotpatch_report"]
    assert summary["host_count"] == 3
    assert summary["by_action"]["hotpatch"] == 2
    assert summary["by_action"]["conventional"] == 1
    job_dir = root / f"job-{job.job_id:012d}"
    assert Path(summary["report_dir"]) == job_dir.resolve()
    fleet = json.loads((job_dir / "latest" / "fleet.json").read_text())
    assert {r["host"]: r["plan"]["action"] for r in fleet["hosts"]} == {
        h: p["action"] for h, p in plans.items()
    }


@pytest.mark.parametrize(("answer", "searched"), [("false", False), ("true", True)])
def test_boolean_survey_answers_arrive_as_strings_and_work(lab, work, answer, searched):
    """A survey has no boolean type: AWX sends the multiple choice answer "false" or "true"."""
    extra = launch_vars("Hotpatch - assess", {"assess_search_updates": answer})
    assert extra["assess_search_updates"] == answer
    job = _ok(run_job(work, "playbooks/assess.yml", lab.inventory, extra, limit="web02"))
    assert bool(job.task_hosts("ansible.windows.win_updates")) is searched


@pytest.mark.parametrize("blank", [None, ""], ids=["null", "empty"])
def test_blank_optional_answers_mean_not_set(lab, work, blank):
    """Depending on its version, AWX sends an optional question left empty as null or as ''."""
    extra = launch_vars("Hotpatch - assess", {})
    extra.update(hotpatch_date=blank, hotpatch_awx_report_root=blank)
    job = _ok(run_job(work, "playbooks/assess.yml", lab.inventory, extra, limit="web01"))
    status = job.facts("hotpatch_status")["web01"]
    assert status["cycle"]["month"] == "2026-02"
    assert job.facts("hotpatch_plan")["web01"]["action"] == "hotpatch"


def test_dry_run_is_check_mode_with_a_date_override(lab, work):
    """Job type check + the date of the April 2026 baseline: what would happen then, and nothing happens."""
    before = lab.ledger().events
    extra = launch_vars(
        "Hotpatch - patch", {"hotpatch_date": "2026-04-15", "hotpatch_awx_report_root": str(work / "r")}
    )
    job = _ok(run_job(work, "playbooks/patch.yml", lab.inventory, extra, job_type="check"))
    after = lab.ledger().events[len(before) :]
    assert not [e for e in after if e["event"] in ("install", "uninstall", "restart_down")]
    plans = job.facts("hotpatch_plan")
    assert plans["web01"]["action"] == "baseline"
    assert plans["web01"]["reboot"] is True
    assert job.facts("hotpatch_status")["web01"]["cycle"]["month"] == "2026-04"
    outcomes = job.facts("hotpatch_outcome")
    assert {o["status"] for o in outcomes.values()} == {"check_mode"}
    assert job.artifacts["hotpatch_report"]["check_mode"] is True


def _render_injectors(credential_type: dict, inputs: dict, files: Path) -> dict:
    """What AWX does with a custom credential type: write the file templates, render the extra vars."""
    env = ImmutableSandboxedEnvironment()
    filenames = {}
    for key, template in credential_type["injectors"].get("file", {}).items():
        name = key.split(".", 1)[1] if "." in key else "file"
        path = files / f"cred-{name}"
        path.write_text(env.from_string(template).render(**inputs))
        filenames[name] = str(path)
    context = dict(inputs, tower={"filename": filenames})
    return {
        k: env.from_string(v).render(**context) for k, v in credential_type["injectors"]["extra_vars"].items()
    }


def test_winrm_https_credentials_validate_the_certificate_and_hide_the_password(work, tmp_path_factory):
    """Machine credential (user and password through the password prompt, as AWX does) plus the custom
    credential type (CA file, HTTPS, validation on), against a lab with its own certificate authority."""
    password = "Awx-Secret-7f3e!"
    fleet = {"date": FLEET["date"], "hosts": {"web01": FLEET["hosts"]["web01"]}}
    with Lab(fleet, tmp_path_factory.mktemp("lab-https"), https=True, password=password) as lab:
        inventory = yaml.safe_load(lab.inventory.read_text())
        host = inventory["all"]["children"]["windows"]["hosts"]["web01"]
        for key in list(host):
            if key in ("ansible_user", "ansible_password") or key.startswith("ansible_winrm_"):
                del host[key]  # the credentials supply these
        stripped = work / "inventory.yml"
        stripped.write_text(yaml.safe_dump(inventory))
        credential_type = load_config(INSTALLED)["hotpatch_awx_credential_type"]
        ca = Path(lab.info["ca"]).read_text()
        injected = _render_injectors(credential_type, {"ca_cert": ca, "transport": "basic"}, work)
        assert injected["ansible_winrm_server_cert_validation"] == "validate"
        assert Path(injected["ansible_winrm_ca_trust_path"]).read_text() == ca

        extra = dict(
            launch_vars("Hotpatch - assess", {"hotpatch_awx_report_root": str(work / "r")}), **injected
        )
        job = run_job(
            work, "playbooks/assess.yml", stripped, extra,
            cmdline="-u Administrator --ask-pass", passwords={r"^SSH [pP]assword:\s*?$": password},
        )  # fmt: skip
        _ok(job)
        assert job.facts("hotpatch_plan")["web01"]["action"] == "hotpatch"

        # A wrong CA fails the TLS handshake: validation is really on.
        other = work / "other-ca"
        other.mkdir()
        wrong = dict(extra, ansible_winrm_ca_trust_path=str(_other_ca(other)))
        failed = run_job(
            work, "playbooks/assess.yml", stripped, wrong,
            cmdline="-u Administrator --ask-pass", passwords={r"^SSH [pP]assword:\s*?$": password},
        )  # fmt: skip
        assert failed.facts("hotpatch_plan").get("web01", {}).get("action") != "hotpatch"
        assert "certificate" in failed.stdout().lower() or "ssl" in failed.stdout().lower()

    # The password is in no event, no stdout and no artifact of the jobs.
    for run in (job, failed):
        assert password not in json.dumps(run.events)
        for path in (run.private_data_dir / "artifacts").rglob("*"):
            if path.is_file():
                assert password not in path.read_text(errors="replace"), path


def _other_ca(directory: Path) -> Path:
    from tests.lab.certs import make_certificates

    return Path(make_certificates(directory)[0])


def test_workflow_failure_path_reports_then_fails(work, tmp_path_factory):
    """assess -> patch fails (a host cannot be reached) -> report_failed writes the fleet report and fails."""
    fleet = {
        "date": FLEET["date"],
        "hosts": {
            "web01": FLEET["hosts"]["web01"],
            "gone01": dict(FLEET["hosts"]["web01"], faults=["unreachable"]),
        },
    }
    root = work / "run-2026-02"
    answers = {"hotpatch_awx_report_root": str(root)}
    with Lab(fleet, tmp_path_factory.mktemp("lab-flow")) as lab:
        assess = run_job(
            work, "playbooks/assess.yml", lab.inventory, launch_vars("Hotpatch - assess", answers)
        )
        # AWX passes a node's artifacts to the next node as extra vars.
        extra = dict(launch_vars("Hotpatch - patch", answers), **assess.artifacts)
        patch = run_job(work, "playbooks/patch.yml", lab.inventory, extra)
    assert patch.status == "failed"
    workflow = load_config(INSTALLED)["hotpatch_awx_workflow"]["workflow_nodes"]
    node = next(n for n in workflow if n["identifier"] == "patch")
    next_id = node["related"]["failure_nodes"][0]["identifier"]
    report_node = next(n for n in workflow if n["identifier"] == next_id)
    extra = dict(answers, **report_node.get("extra_data", {}), **patch.artifacts)
    report = run_job(work, "extensions/awx/merge_reports.yml", work / "localhost.yml", extra)
    assert report.status == "failed", "the failure path must leave the workflow failed"
    assert "gone01" in report.stdout()
    fleet_json = json.loads((root / "latest" / "fleet.json").read_text())
    assert {r["host"]: r["status"] for r in fleet_json["hosts"]}["gone01"] == "failed"
    assert {r["host"] for r in fleet_json["hosts"]} == {"web01", "gone01"}


def test_rollback_template_needs_the_operator_to_answer_true(work, tmp_path_factory):
    """The rollback survey defaults to "false": the job stops before any change; "true" uninstalls and
    restarts the host."""
    # web01 already took February's hotpatch: that is the update to roll back.
    web01 = dict(FLEET["hosts"]["web01"], build="26100.32313", hotfixes=["KB5075942"])
    with Lab(
        {"date": FLEET["date"], "windows_update": {}, "hosts": {"web01": web01}},
        tmp_path_factory.mktemp("lab-rollback"),
    ) as lab:
        refused = run_job(
            work, "playbooks/rollback.yml", lab.inventory, launch_vars("Hotpatch - rollback", {})
        )
        assert refused.status == "failed"
        assert "rollback_confirm" in refused.stdout()
        assert not lab.ledger().uninstalls() and not lab.ledger().restarts()

        extra = launch_vars("Hotpatch - rollback", {"rollback_confirm": "true"})
        assert extra["rollback_confirm"] == "true" and "rollback_kb" not in extra
        done = _ok(run_job(work, "playbooks/rollback.yml", lab.inventory, extra))
        assert lab.ledger().uninstalls() == {"web01": ["KB5075942"]}
        assert lab.ledger().restarts() == {"web01": 1}
    assert done.host_summary["web01"]["failures"] == 0
