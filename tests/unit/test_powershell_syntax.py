"""Every PowerShell script of the installed collection parses with a PowerShell grammar (tree-sitter)."""

import pytest
from tree_sitter_language_pack import get_parser

from tests.conftest import INSTALLED

SCRIPTS = sorted(INSTALLED.rglob("*.ps1")) + sorted(INSTALLED.rglob("*.psm1"))


def syntax_errors(source):
    """(line, column, text) of every ERROR or MISSING node in ``source`` (bytes)."""
    tree = get_parser("powershell").parse(source)
    errors = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            text = source[node.start_byte : node.end_byte][:60].decode("utf-8", "replace")
            errors.append((node.start_point[0] + 1, node.start_point[1] + 1, node.type, text))
        stack.extend(node.children)
    return sorted(errors)


def test_the_collection_ships_the_probe():
    assert INSTALLED / "plugins" / "plugin_utils" / "hotpatch_probe.ps1" in SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(INSTALLED)))
def test_script_parses(script):
    errors = syntax_errors(script.read_bytes())
    assert not errors, f"{script.relative_to(INSTALLED)}: syntax errors at " + "; ".join(
        f"line {line} column {column} ({kind}: {text!r})" for line, column, kind, text in errors
    )


@pytest.mark.parametrize(
    "broken",
    [
        b"if ($a -eq 1 { Write-Output 'x' }\n",
        b"function Get-Thing {\n    param([string]$Name\n    $Name\n}\n",
        b"$facts = @{ os = 'x'\n",
        b"try { Get-Item 'HKLM:\\x' }\ncatch {\n",
    ],
)
def test_checker_catches_broken_scripts(broken):
    """Negative control: the checker is not blind."""
    assert syntax_errors(broken)


def test_checker_catches_a_broken_probe(installed_collection):
    probe = (installed_collection / "plugins" / "plugin_utils" / "hotpatch_probe.ps1").read_bytes()
    assert not syntax_errors(probe)
    broken = probe.replace(b"$vbsStatus = $null\ntry {", b"$vbsStatus = $null\ntry (", 1)
    assert broken != probe
    assert syntax_errors(broken)
