"""The two ansible-core releases `make test` checks the collection on, and their venvs under build/.

The versions are the Makefile's CORE_OLDEST and CORE_NEWEST (one place to change them); `make test`
creates the venvs (`make core-venvs`) before pytest runs.
"""

import os
import re
from pathlib import Path

import pytest

from tests.conftest import COLLECTIONS, REPO

MAKEFILE = (REPO / "Makefile").read_text()
# ansible.windows alone (tests/collection_deps.py): not the development venv's `ansible` package, whose
# other collections warn that they do not support an older ansible-core.
DEPS = REPO / "build" / "collection-deps"


def _pin(name: str) -> str:
    match = re.search(rf"^{name} := (\S+)$", MAKEFILE, re.MULTILINE)
    assert match, f"the Makefile sets no {name}"
    return match.group(1)


CORES = {"oldest": _pin("CORE_OLDEST"), "newest": _pin("CORE_NEWEST")}


def core_bin(which: str) -> Path:
    """bin/ of the venv of the oldest or newest ansible-core; fails (not skips) when it is missing."""
    venv = REPO / "build" / f"core-{CORES[which]}"
    if not (venv / ".installed").is_file():
        pytest.fail(
            f"no venv of ansible-core {CORES[which]} at {venv}: run `make core-venvs` (make test does)"
        )
    return venv / "bin"


def core_env(tmp_path: Path, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join((str(COLLECTIONS), str(DEPS))),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_HOST_KEY_CHECKING="false",
        ANSIBLE_NOCOLOR="true",
        ANSIBLE_FORCE_COLOR="false",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        ANSIBLE_FORKS="10",
    )
    env.update(extra)
    return env
