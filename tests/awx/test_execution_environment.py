"""The execution environment: `ansible-builder create` on the shipped execution-environment.yml gives a
build context with this collection's tarball, a base image and, through the collection's
meta/execution-environment.yml, pywinrm; no container engine and no network needed."""

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bindep.depends import Depends

from tests.conftest import COLLECTIONS

BIN = Path(sys.executable).parent


def _tarball() -> Path:
    """The tarball `make collection` built and installed (BUILD/dist beside BUILD/collections)."""
    found = sorted((COLLECTIONS.parent / "dist").glob("hotpatch-windows-*.tar.gz"))
    if len(found) != 1:
        pytest.fail(
            f"expected one built tarball in {COLLECTIONS.parent / 'dist'}, found {found}: run make collection"
        )
    return found[0]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def context(installed_collection, tmp_path_factory):
    """Run ansible-builder create as a user would, from a checkout with the built tarball in build/dist."""
    work = tmp_path_factory.mktemp("ee")
    shutil.copy(installed_collection / "execution-environment.yml", work / "execution-environment.yml")
    (work / "build" / "dist").mkdir(parents=True)
    shutil.copy(_tarball(), work / "build" / "dist")
    result = subprocess.run(
        [
            *(str(BIN / "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", "context"),
            *("--output-filename", "Containerfile"),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No matches" not in result.stdout + result.stderr, result.stdout + result.stderr
    return work / "context"


def test_definition_is_builder_v3(installed_collection):
    definition = yaml.safe_load((installed_collection / "execution-environment.yml").read_text())
    assert definition["version"] == 3
    assert definition["images"]["base_image"]["name"]


def test_base_image_is_set(context, installed_collection):
    definition = yaml.safe_load((installed_collection / "execution-environment.yml").read_text())
    containerfile = (context / "Containerfile").read_text()
    image = definition["images"]["base_image"]["name"]
    assert f'ARG EE_BASE_IMAGE="{image}"' in containerfile
    assert "FROM $EE_BASE_IMAGE AS base" in containerfile


def test_context_holds_the_built_collection(context, installed_collection):
    shipped = list((context / "_build" / "collections").glob("hotpatch-windows-*.tar.gz"))
    assert [p.name for p in shipped] == [_tarball().name]
    assert _sha256(shipped[0]) == _sha256(_tarball())
    manifest = json.loads((installed_collection / "MANIFEST.json").read_text())["collection_info"]
    assert shipped[0].name == f"hotpatch-windows-{manifest['version']}.tar.gz"
    containerfile = (context / "Containerfile").read_text()
    install = [line for line in containerfile.splitlines() if "/build/collections/hotpatch-windows-" in line]
    assert install, "the Containerfile never installs the collection tarball"
    assert re.search(
        r"ansible-galaxy collection install .*--collections-path /usr/share/ansible/collections", install[0]
    )
    # The galaxy stage copies _build to /build before it installs.
    assert containerfile.index("COPY _build /build") < containerfile.index(install[0])


def test_context_requires_the_dependency_collection(context, installed_collection):
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    names = {c["name"] for c in requirements["collections"]}
    assert "ansible.windows" in names
    manifest = json.loads((installed_collection / "MANIFEST.json").read_text())["collection_info"]
    assert set(manifest["dependencies"]) <= names


def test_context_installs_ansible_core_and_runner(context):
    containerfile = (context / "Containerfile").read_text()
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile).group(1).split()
    assert any(ref.startswith("ansible-core") for ref in refs)
    assert any(ref.startswith("ansible-runner") for ref in refs)


@pytest.fixture(scope="module")
def introspected(context, tmp_path_factory):
    """What the builder stage computes: install the context's collections (as the galaxy stage does, here
    without the network: --no-deps) and run `ansible-builder introspect` on them."""
    root = tmp_path_factory.mktemp("usr-share-ansible")
    for tarball in (context / "_build" / "collections").glob("*.tar.gz"):
        subprocess.run(
            [
                str(BIN / "ansible-galaxy"),
                "collection",
                "install",
                "--no-deps",
                "--force",
                "-p",
                str(root),
                str(tarball),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    pip, bindep = root / "requirements.txt", root / "bindep.txt"
    subprocess.run(
        [
            str(BIN / "ansible-builder"),
            "introspect",
            str(root),
            "--write-pip",
            str(pip),
            "--write-bindep",
            str(bindep),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return pip.read_text(), bindep.read_text()


def test_image_gets_pywinrm_from_the_collection(introspected):
    pip, _ = introspected
    names = [re.split(r"[<>=!~\[ ;#]", line.strip())[0].lower() for line in pip.splitlines() if line.strip()]
    assert "pywinrm" in names
    assert "ansible-core" not in names, "ansible-builder leaves ansible-core to the EE definition"


def test_system_packages_only_on_request(introspected):
    """Default image: no system package. The `kerberos` profile lists the Kerberos client and build needs."""
    _, bindep = introspected
    depends = Depends(bindep)
    platform = ["platform:rpm", "platform:redhat", "platform:fedora"]
    assert depends.active_rules(["default", *platform]) == []
    assert depends.active_rules(["compile", *platform]) == []
    kerberos = {rule[0] for rule in depends.active_rules(["kerberos", *platform])}
    assert {"krb5-libs", "krb5-devel", "gcc"} <= kerberos
