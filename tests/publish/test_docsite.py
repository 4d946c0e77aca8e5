"""The collection's docs as the Ansible docsite builds them: antsibull-docs lint, then a docsite build.

- `antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs` on the repository: markup of
  every plugin and role, docs/docsite/extra-docs.yml and links.yml, references in the guides.
- `antsibull-docs sphinx-init` + `antsibull-docs collection` + `sphinx-build`, as the docsite does, from
  the installed collection: no page says "ERROR while parsing", every plugin, role and guide has a page,
  and Sphinx reports nothing but what an offline build must (it cannot fetch the intersphinx inventories
  of docs.ansible.com and python.org, so references into them stay unresolved).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import COLLECTIONS, REPO
from tests.unit.test_docs import PLUGINS

BIN = Path(sys.executable).parent
PAGE = {"module": "{}_module.html", "filter": "{}_filter.html", "role": "{}_role.html"}
OFFLINE = (
    re.compile(r"failed to reach any of the inventories|intersphinx inventory .* not (fetchable|readable)"),
    # a label of another collection or of the Ansible docs, which lives in an intersphinx inventory
    re.compile(r"WARNING: undefined label: '(?!ansible_collections\.hotpatch\.windows\.)[^']+'"),
)


def run(*command, cwd, timeout=600):
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        PATH=os.pathsep.join((str(BIN), os.environ.get("PATH", ""))),
    )
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return done, done.stdout + done.stderr


def test_antsibull_docs_lint_is_clean():
    done, output = run(
        str(BIN / "antsibull-docs"),
        "lint-collection-docs",
        "--plugin-docs",
        "--check-extra-docs-refs",
        ".",
        cwd=REPO,
    )
    assert done.returncode == 0 and not output.strip(), output


def test_the_docsite_builds_without_parse_errors(tmp_path):
    site = tmp_path / "docsite"
    site.mkdir(mode=0o755)  # antsibull-docs wants a directory only its owner may write to
    done, output = run(
        str(BIN / "antsibull-docs"),
        "sphinx-init",
        "--use-current",
        "--lenient",
        "--dest-dir",
        str(site),
        "hotpatch.windows",
        cwd=tmp_path,
    )
    assert done.returncode == 0, output
    (site / "rst").chmod(0o755)  # as its build.sh does
    done, output = run(
        str(BIN / "antsibull-docs"),
        "--config-file",
        "antsibull-docs.cfg",
        "collection",
        "--use-current",
        "--dest-dir",
        "rst",
        "hotpatch.windows",
        cwd=site,
    )
    assert done.returncode == 0, output
    rst = "\n".join(path.read_text() for path in (site / "rst").rglob("*.rst"))
    assert "ERROR while parsing" not in rst, [
        line for line in rst.splitlines() if "ERROR while parsing" in line
    ]
    done, output = run(str(BIN / "sphinx-build"), "-M", "html", "rst", "build", "-c", ".", cwd=site)
    assert done.returncode == 0, output
    problems = [
        line
        for line in output.splitlines()
        if ("WARNING" in line or "ERROR" in line) and not any(p.search(line) for p in OFFLINE)
    ]
    assert not problems, "\n".join(problems)
    html = site / "build" / "html" / "collections" / "hotpatch" / "windows"
    for kind, name in PLUGINS:
        page = html / PAGE[kind].format(name)
        assert page.is_file(), f"no docsite page for {kind} {name}"
        assert "ERROR while parsing" not in page.read_text(), page
    guide = html / "docsite" / "guide_hotpatch.html"
    assert guide.is_file(), sorted(p.name for p in html.rglob("*.html"))
    assert "baseline_info_module.html" in guide.read_text()  # the guide links to the module's page
