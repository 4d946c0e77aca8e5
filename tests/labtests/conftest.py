"""Fixtures of the lab's tests: the ansible-core to run (this one, or an older one in a cached venv)."""

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest

from tests.labtests.helpers import OLD_CORE, OLD_CORE_VENV


@pytest.fixture(scope="session")
def main_bin() -> Path:
    return Path(sys.executable).parent


@pytest.fixture(scope="session")
def old_core_bin() -> Path:
    """An older supported ansible-core in its own venv under build/, created once and reused."""
    python = OLD_CORE_VENV / "bin" / "python"
    marker = OLD_CORE_VENV / ".lab-ready"
    OLD_CORE_VENV.parent.mkdir(parents=True, exist_ok=True)
    with (OLD_CORE_VENV.parent / f"ansible-core-{OLD_CORE}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers: one creates the venv, the others wait
        if not marker.exists():
            try:
                if not python.exists():
                    subprocess.run(
                        [sys.executable, "-m", "venv", str(OLD_CORE_VENV)], check=True, timeout=300
                    )
                subprocess.run(
                    [
                        str(python),
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        f"ansible-core=={OLD_CORE}",
                        "pywinrm==0.5.0",
                    ],
                    check=True,
                    timeout=900,
                    capture_output=True,
                )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                pytest.skip(
                    f"cannot create the ansible-core {OLD_CORE} venv under build/ (no package index?): {exc}"
                )
            marker.write_text(OLD_CORE)
    return OLD_CORE_VENV / "bin"


@pytest.fixture(params=["current", "old"], ids=["core-2.19", f"core-{OLD_CORE}"])
def ansible_bin(request) -> Path:
    if request.param == "current":
        return request.getfixturevalue("main_bin")
    return request.getfixturevalue("old_core_bin")
