"""Run playbooks the way AWX / Automation Controller does, through ansible-runner, and read its artifacts.

AWX gives every job a private data directory, the extra vars of the template and its survey plus its own
`awx_*` variables, the inventory (for a slice: the slice's hosts) and a job type (run or check); it reads
back the job events, the host summary (`playbook_on_stats`) and the `set_stats` data (`artifact_data`).
"""

import itertools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import ansible_runner

from tests.awx.controller import load_config, load_survey
from tests.awx.survey import launch_extra_vars
from tests.conftest import COLLECTIONS, INSTALLED

_job_ids = itertools.count(1001)


def slice_hosts(hosts, count: int, number: int) -> list:
    """The hosts of slice `number` (1-based) of `count`: AWX gives slice i the hosts sorted(hosts)[i::N]."""
    return sorted(hosts)[number - 1 :: count]


@dataclass
class Job:
    """A finished job: what AWX would show and store."""

    job_id: int
    status: str
    rc: int
    events: list = field(repr=False)
    private_data_dir: Path = field(repr=False)

    def _stats_event(self) -> dict:
        found = [e for e in self.events if e.get("event") == "playbook_on_stats"]
        assert found, f"job {self.job_id}: no playbook_on_stats event (status {self.status}, rc {self.rc})"
        return found[-1]["event_data"]

    @property
    def artifacts(self) -> dict:
        """The set_stats data AWX stores as the job's artifacts and hands to the next workflow node."""
        return self._stats_event().get("artifact_data") or {}

    @property
    def host_summary(self) -> dict:
        """{host: {ok, changed, failures, dark, skipped, ...}} as AWX's job host summaries."""
        data = self._stats_event()
        hosts = set()
        for key in ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored", "processed"):
            hosts.update((data.get(key) or {}).keys())
        return {
            host: {key: (data.get(key) or {}).get(host, 0) for key in ("ok", "changed", "failures", "dark")}
            for host in hosts
        }

    def facts(self, name: str) -> dict:
        """{host: value} of a fact the job set (from the runner_on_ok events of set_fact tasks)."""
        found = {}
        for event in self.events:
            if event.get("event") != "runner_on_ok":
                continue
            data = event["event_data"]
            facts = (data.get("res") or {}).get("ansible_facts") or {}
            if name in facts:
                found[data["host"]] = facts[name]
        return found

    def dynamic_groups(self) -> dict:
        """{group: {hosts}} the job made with group_by (from its runner_on_ok / runner_item_on_ok events)."""
        groups = {}
        for event in self.events:
            if event.get("event") not in ("runner_on_ok", "runner_item_on_ok"):
                continue
            data = event["event_data"]
            if data.get("task_action") not in ("ansible.builtin.group_by", "group_by"):
                continue
            res = data.get("res") or {}
            results = res.get("results") or [res]
            for item in results:
                if item.get("add_group"):
                    groups.setdefault(item["add_group"], set()).add(data["host"])
        return groups

    def task_hosts(self, action: str, event: str = "runner_on_ok") -> set:
        """Hosts on which a task of this action ran (event runner_on_ok, runner_on_skipped, ...)."""
        return {
            e["event_data"]["host"]
            for e in self.events
            if e.get("event") == event and e["event_data"].get("task_action") == action
        }

    def stdout(self) -> str:
        return "\n".join(e.get("stdout", "") for e in self.events if e.get("stdout"))


def launch_vars(template_name: str, answers: dict) -> dict:
    """Extra vars of a job launched from a job template of extensions/awx: the template's own extra vars
    (Jinja allowed there) and the survey answers (defaults for the others), the answers winning."""
    config = load_config(INSTALLED)
    template = next(t for t in config["hotpatch_awx_job_templates"] if t["name"] == template_name)
    return dict(
        template.get("extra_vars") or {},
        **launch_extra_vars(load_survey(INSTALLED, template["survey"]), answers),
    )


def localhost_inventory(work: Path) -> Path:
    """An inventory for the controller-only playbooks (the fleet report node), with the playbook's Python."""
    path = Path(work) / "localhost.yml"
    path.write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
    )
    return path


def awx_extra_vars(job_id: int, template_name: str) -> dict:
    """The variables AWX adds to every job of a job template."""
    return {
        "awx_job_id": job_id,
        "tower_job_id": job_id,
        "awx_job_launch_type": "manual",
        "awx_job_template_name": template_name,
        "awx_user_name": "admin",
    }


def run_job(
    work: Path,
    playbook: str,
    inventory: Path,
    extra_vars: dict | None = None,
    limit: str | None = None,
    job_type: str = "run",
    template_name: str = "test",
    timeout: int = 900,
    cmdline: str | None = None,
    passwords: dict | None = None,
) -> Job:
    """Run `playbook` (a path inside the installed collection, as a project path) as one AWX job."""
    job_id = next(_job_ids)
    private = Path(work) / f"runner-{job_id}"
    private.mkdir(parents=True, exist_ok=True)
    extravars = dict(awx_extra_vars(job_id, template_name), **(extra_vars or {}))
    envvars = {
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_HOST_KEY_CHECKING": "false",
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    result = ansible_runner.run(
        private_data_dir=str(private),
        playbook=str(INSTALLED / playbook),
        inventory=str(inventory),
        extravars=extravars,
        limit=limit,
        cmdline=" ".join(filter(None, [cmdline, "--check" if job_type == "check" else None])) or None,
        passwords=passwords,
        envvars=envvars,
        ident=str(job_id),
        quiet=True,
        timeout=timeout,
    )
    return Job(job_id, result.status, result.rc, list(result.events), private)
