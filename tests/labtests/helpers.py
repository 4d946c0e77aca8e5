"""Helpers for the lab's tests: run ansible-playbook (this ansible-core or an older one) against a lab."""

import json
import os
import subprocess
import sysconfig
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent.parent
FLEETS = REPO / "tests" / "lab" / "fleets"
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])  # holds ansible.windows and ansible.posix
OLD_CORE = "2.17.14"
OLD_CORE_VENV = REPO / "build" / "lab-venvs" / f"ansible-core-{OLD_CORE}"


def ansible_env(extra=None) -> dict:
    collections = [os.environ.get("ANSIBLE_COLLECTIONS_PATH", ""), str(SITE_PACKAGES)]
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(p for p in collections if p),
            "ANSIBLE_HOST_KEY_CHECKING": "false",
            "ANSIBLE_NOCOLOR": "true",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_FORKS": "20",
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
            "ANSIBLE_LOCAL_TEMP": str(REPO / "build" / "lab-tmp"),
            "ANSIBLE_HOME": str(REPO / "build" / "lab-tmp" / "home"),
        }
    )
    env.update(extra or {})
    return env


def run_playbook(
    bin_dir: Path,
    inventory: Path,
    tasks: list,
    tmp_path: Path,
    hosts="windows",
    timeout=300,
    extra_env=None,
    strategy="linear",
) -> dict:
    """Runs one play of `tasks` on `hosts`; returns {host: [task result, ...]} plus '_stats' and '_raw'.
    With strategy 'free' each host runs its tasks without waiting for the others (restarts overlap)."""
    playbook = tmp_path / f"play-{len(list(tmp_path.glob('play-*.yml')))}.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "lab test",
                    "hosts": hosts,
                    "gather_facts": False,
                    "strategy": strategy,
                    "tasks": tasks,
                }
            ],
            sort_keys=False,
        )
    )
    proc = subprocess.run(
        [str(bin_dir / "ansible-playbook"), "-i", str(inventory), str(playbook)],
        capture_output=True,
        text=True,
        env=ansible_env(extra_env),
        timeout=timeout,
        cwd=tmp_path,
    )
    start = proc.stdout.find("{")
    if start < 0:
        raise AssertionError(
            f"ansible-playbook printed no JSON (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    data = json.loads(proc.stdout[start:])
    results: dict = {"_stats": data["stats"], "_raw": data, "_rc": proc.returncode, "_stderr": proc.stderr}
    for play in data["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                results.setdefault(host, []).append(result)
    return results
