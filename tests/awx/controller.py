"""Read what the collection ships for AWX (extensions/awx) and what its roles accept, for the tests."""

from pathlib import Path

import yaml


class _Loader(yaml.SafeLoader):
    """A YAML loader that keeps Ansible's `!unsafe` strings (Jinja for AWX, not for the loader playbook)."""


def _unsafe(loader, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return loader.construct_sequence(node, deep=True)


_Loader.add_constructor("!unsafe", _unsafe)


def load_yaml(path: Path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)


def awx_dir(installed: Path) -> Path:
    return installed / "extensions" / "awx"


def load_config(installed: Path) -> dict:
    return load_yaml(awx_dir(installed) / "controller_config.yml")


def load_survey(installed: Path, name: str) -> dict:
    return load_yaml(awx_dir(installed) / "surveys" / name)


def playbook_path(installed: Path, playbook: str) -> Path:
    """Where the job template's playbook (a path in the project, this repository) is in the collection."""
    return installed / playbook


def role_spec(installed: Path, role: str) -> dict:
    """Options of the role's main entry point (meta/argument_specs.yml), by name."""
    path = installed / "roles" / role / "meta" / "argument_specs.yml"
    return load_yaml(path)["argument_specs"]["main"].get("options", {})


def role_defaults(installed: Path, role: str) -> dict:
    path = installed / "roles" / role / "defaults" / "main.yml"
    return (load_yaml(path) or {}) if path.is_file() else {}


def _short_role(name: str) -> str | None:
    prefix = "hotpatch.windows."
    return name[len(prefix) :] if name.startswith(prefix) else None


def _walk_tasks(tasks, found):
    for task in tasks or []:
        for key in ("block", "rescue", "always"):
            _walk_tasks(task.get(key), found)
        for action in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
            if action in task:
                role = _short_role(task[action]["name"])
                if role:
                    found.append((role, task.get("vars", {})))


def playbook_roles(path: Path) -> list[tuple[str, dict]]:
    """hotpatch.windows roles a playbook runs, each with the vars the playbook gives it, in play order."""
    found = []
    for play in load_yaml(path):
        for entry in play.get("roles", []):
            name = entry if isinstance(entry, str) else entry.get("role", entry.get("name"))
            role = _short_role(name)
            if role:
                found.append((role, entry.get("vars", {}) if isinstance(entry, dict) else {}))
        for key in ("pre_tasks", "tasks", "post_tasks"):
            _walk_tasks(play.get(key), found)
    return found
