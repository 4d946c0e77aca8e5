"""Every collection the shipped content uses is declared, and the declared versions are the tested ones.

- roles and playbooks: ansible.builtin, hotpatch.windows and galaxy.yml's dependencies only;
- extensions/awx: those, plus extensions/awx/requirements.yml (awx.awx), whose version range the copy the
  tests and ansible-lint use (the development venv's `ansible` package) satisfies.
"""

import json
import re
import sysconfig
from pathlib import Path

import pytest
import yaml
from ansible.galaxy.dependency_resolution.versioning import meets_requirements

from tests.conftest import REPO

FQCN = re.compile(r"^\s*-?\s*([a-z_0-9]+)\.([a-z_0-9]+)\.[a-z_0-9]+:", re.MULTILINE)
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
AWX_REQUIREMENTS = yaml.safe_load((REPO / "extensions" / "awx" / "requirements.yml").read_text())
SITE_COLLECTIONS = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"


def used(*folders):
    found = set()
    for folder in folders:
        for path in (REPO / folder).rglob("*.yml"):
            found |= {f"{ns}.{name}" for ns, name in FQCN.findall(path.read_text())}
    return found


def test_roles_and_playbooks_use_only_declared_collections():
    declared = {"ansible.builtin", "hotpatch.windows", *GALAXY["dependencies"]}
    assert used("roles", "playbooks") <= declared


def test_the_awx_playbooks_use_only_declared_collections():
    awx = {entry["name"] for entry in AWX_REQUIREMENTS["collections"]}
    declared = {"ansible.builtin", "hotpatch.windows", *GALAXY["dependencies"], *awx}
    assert "awx.awx" in used("extensions/awx")
    assert used("extensions/awx") <= declared


@pytest.mark.parametrize("entry", AWX_REQUIREMENTS["collections"], ids=lambda e: e["name"])
def test_the_tested_copy_meets_the_declared_version(entry):
    namespace, name = entry["name"].split(".")
    manifest = SITE_COLLECTIONS / namespace / name / "MANIFEST.json"
    assert manifest.is_file(), f"{entry['name']} is not in the development venv"
    version = json.loads(manifest.read_text())["collection_info"]["version"]
    assert meets_requirements(version, entry.get("version", "*")), (version, entry)
