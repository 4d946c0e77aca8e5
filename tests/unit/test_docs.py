"""ansible-doc renders every module, filter and role of the installed collection, without error or warning.

The plugins and roles are discovered from the installed tree, so new ones are covered without editing this.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import COLLECTIONS, INSTALLED

ANSIBLE_DOC = Path(sys.executable).with_name("ansible-doc")


def _filter_names(path):
    """Names a filter file registers: the string keys of the dict that FilterModule.filters returns."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "FilterModule":
            for item in ast.walk(node):
                if isinstance(item, ast.Dict):
                    names += [
                        key.value
                        for key in item.keys
                        if isinstance(key, ast.Constant) and isinstance(key.value, str)
                    ]
    return names


def _discover():
    found = []
    for path in sorted((INSTALLED / "plugins" / "modules").glob("*.py")):
        if not path.name.startswith("_"):
            found.append(("module", path.stem))
    for path in sorted((INSTALLED / "plugins" / "filter").glob("*.py")):
        if not path.name.startswith("_"):
            found += [("filter", name) for name in _filter_names(path)]
    for path in sorted((INSTALLED / "roles").glob("*/")):
        if path.is_dir():
            found.append(("role", path.name))
    return found


PLUGINS = _discover()


def test_something_to_document():
    kinds = {kind for kind, _ in PLUGINS}
    assert "module" in kinds, "no module found in the installed collection"


@pytest.mark.parametrize(("kind", "name"), PLUGINS, ids=[f"{kind}:{name}" for kind, name in PLUGINS])
def test_ansible_doc_renders(kind, name):
    # only this collection: not the ~80 of the development venv's `ansible` package, which ansible-doc would
    # read too (none of them is needed to render these docs)
    environment = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_NOCOLOR="1",
    )
    command = [str(ANSIBLE_DOC), "-t", kind, "--json", f"hotpatch.windows.{name}"]
    done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120, check=False)
    assert done.returncode == 0, (
        f"ansible-doc -t {kind} hotpatch.windows.{name} failed: {done.stderr.strip()}"
    )
    assert not done.stderr.strip(), (
        f"ansible-doc -t {kind} hotpatch.windows.{name} warned: {done.stderr.strip()}"
    )
    document = json.loads(done.stdout)
    entry = document.get(f"hotpatch.windows.{name}")
    assert entry, f"ansible-doc returned no documentation for {kind} hotpatch.windows.{name}"
    if kind == "role":
        assert entry.get("entry_points"), f"role {name} documents no entry point (meta/argument_specs.yml)"
    else:
        doc = entry.get("doc") or {}
        assert doc.get("short_description"), f"{kind} {name} has no short_description"
        assert entry.get("examples") or kind == "role", f"{kind} {name} has no EXAMPLES"
