"""The README as a newcomer reads it: its install lines name real extras, and the commands it gives after
`make lab-start` run as written.

The lab block runs in a copy of this checkout (its committed files, the development venv linked in), so
`make lab-start`, `source build/lab/env.sh`, the playbooks and `make lab-stop` are the README's own lines,
paths included, and nothing of this checkout's build/ is touched.
"""

import importlib.metadata
import os
import re
import shutil
import subprocess

import pytest

from tests.conftest import REPO

README = (REPO / "README.md").read_text()
BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.DOTALL)
PIP_LINES = [line for block in BLOCKS for line in block.splitlines()] + [
    cell for cell in re.findall(r"`(pip install [^`]+)`", README)
]
EXTRAS = sorted(set(re.findall(r"'([a-z0-9_-]+)\[([a-z0-9_-]+)\]'", "\n".join(PIP_LINES))))


def test_the_readme_names_the_transports_extras():
    assert ("pywinrm", "kerberos") in EXTRAS and ("pywinrm", "credssp") in EXTRAS
    assert any("pip install pypsrp" in line for line in PIP_LINES)


@pytest.mark.parametrize(("package", "extra"), EXTRAS, ids=[f"{p}[{e}]" for p, e in EXTRAS])
def test_each_extra_the_readme_installs_exists(package, extra):
    provided = importlib.metadata.metadata(package).get_all("Provides-Extra") or []
    assert extra in provided, f"{package} has no extra {extra!r} (it has {provided})"


def lab_block():
    blocks = [block for block in BLOCKS if block.lstrip().startswith("make lab-start")]
    assert len(blocks) == 1, "the README has no (or more than one) block that starts with `make lab-start`"
    return blocks[0]


def test_the_readme_lab_commands_run_as_written(tmp_path):
    block = lab_block()
    assert "source build/lab/env.sh" in block and block.rstrip().endswith("make lab-stop")
    checkout = tmp_path / "checkout"
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / name)  # keeps mtimes: make sees the venv as up to date
    (checkout / ".venv").symlink_to(REPO / ".venv")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ANSIBLE_", "PYTEST_", "MAKE")) and key not in ("MFLAGS", "VIRTUAL_ENV")
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    script = f"set -euo pipefail\ntrap 'make lab-stop >/dev/null 2>&1 || true' EXIT\n{block}"
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "source build/lab/env.sh" in output  # make lab-start told how to get there
    assert "could not be found" not in output and "command not found" not in output, output[-4000:]
    assert (checkout / "build" / "lab" / "report").is_dir() and any(
        (checkout / "build" / "lab" / "report").rglob("fleet.html")
    ), output[-4000:]
