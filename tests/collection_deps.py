"""Put the one collection hotpatch.windows depends on, ``ansible.windows``, into a collections path.

    python tests/collection_deps.py ANSIBLE_VERSION DEST

For `make demo` (its small venv) and the venvs of the oldest and newest ansible-core (`make test`).
Galaxy is not a registry a machine of this project reaches, and the ``ansible`` package (some 80
collections, 400 MB installed; the development venv has it) is far more than they need. So this
downloads the ``ansible`` wheel of the version requirements-dev.txt pins (the same ``ansible.windows``
the development venv and the tests use), copies only ``ansible_collections/ansible/windows/`` out of it
into ``DEST/ansible_collections/ansible/windows`` and deletes the wheel. Run again with the same version,
it does nothing.
"""

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PREFIX = "ansible_collections/ansible/windows/"


def main() -> int:
    version, dest = sys.argv[1], Path(sys.argv[2]).resolve()
    target = dest / PREFIX
    marker = dest / f".from-ansible-{version}"
    if marker.is_file() and (target / "MANIFEST.json").is_file():
        print(f"  ansible.windows from ansible {version} is already in {dest}", flush=True)
        return 0
    with tempfile.TemporaryDirectory(prefix="hotpatch-demo-") as tmp:
        print(
            f"  downloading the ansible {version} wheel (to take ansible.windows out of it) ...", flush=True
        )
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"),
                *("--progress-bar", "off", "--dest", tmp, f"ansible=={version}"),
            ],
            check=True,
        )
        wheel = next(Path(tmp).glob("ansible-*.whl"))
        if target.exists():
            shutil.rmtree(target)
        with zipfile.ZipFile(wheel) as archive:
            members = [name for name in archive.namelist() if name.startswith(PREFIX)]
            archive.extractall(dest, members)
    manifest = target / "MANIFEST.json"
    if not manifest.is_file():
        print(f"ansible {version} has no ansible.windows collection", file=sys.stderr)
        return 1
    for old in dest.glob(".from-ansible-*"):
        old.unlink()
    marker.touch()
    print(f"  ansible.windows: {len(members)} files in {target}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
