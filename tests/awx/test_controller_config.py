"""The controller configuration as code (extensions/awx): every reference resolves, the workflow is the
assess -> patch -> report graph with a failure path, the credential type injects what it should (and no
secret, no connection override), and the loader playbook is valid."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.awx.controller import awx_dir, load_config, load_yaml, playbook_path
from tests.awx.fake_controller import FakeController

BIN = Path(sys.executable).parent
CA_VARS = json.dumps(
    {"hotpatch_awx_ca_cert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
)


def test_job_template_playbooks_exist_in_the_project(installed_collection):
    for template in load_config(installed_collection)["hotpatch_awx_job_templates"]:
        assert playbook_path(installed_collection, template["playbook"]).is_file(), template["playbook"]


def test_templates_that_change_hosts_ask_for_the_job_type(installed_collection):
    """Check mode is offered as the job type wherever the playbook changes hosts."""
    templates = {t["playbook"]: t for t in load_config(installed_collection)["hotpatch_awx_job_templates"]}
    assert templates["playbooks/patch.yml"]["ask_job_type_on_launch"] is True
    assert templates["playbooks/rollback.yml"]["ask_job_type_on_launch"] is True
    assert templates["playbooks/rollback.yml"]["job_slice_count"] == 1


def test_each_job_writes_its_report_in_its_own_directory(installed_collection):
    """Slices of one sliced job must not share a report directory (the report role replaces hosts/)."""
    env = ImmutableSandboxedEnvironment()
    for template in load_config(installed_collection)["hotpatch_awx_job_templates"]:
        value = (template.get("extra_vars") or {}).get("hotpatch_report_dir")
        if value is None:
            continue
        render = env.from_string(value)
        one = render.render(hotpatch_awx_report_root="/shared/run", awx_job_id=7)
        two = render.render(hotpatch_awx_report_root="/shared/run", awx_job_id=12)
        assert one == "/shared/run/job-000000000007"
        assert two == "/shared/run/job-000000000012"
        assert sorted([two, one]) == [one, two], "later jobs must sort later (their records win)"
        assert render.render(hotpatch_awx_report_root=None).startswith("hotpatch-report/job-")


def _workflow(installed):
    config = load_config(installed)
    names = {t["name"]: t for t in config["hotpatch_awx_job_templates"]}
    nodes = {n["identifier"]: n for n in config["hotpatch_awx_workflow"]["workflow_nodes"]}
    return names, nodes


def test_workflow_nodes_reference_templates_and_nodes(installed_collection):
    templates, nodes = _workflow(installed_collection)
    assert len(nodes) == len(load_config(installed_collection)["hotpatch_awx_workflow"]["workflow_nodes"])
    for node in nodes.values():
        assert node["unified_job_template"]["type"] == "job_template"
        assert node["unified_job_template"]["name"] in templates
        for kind in ("success_nodes", "failure_nodes", "always_nodes"):
            for link in node.get("related", {}).get(kind, []):
                assert link["identifier"] in nodes, f"{node['identifier']} {kind} -> {link}"


def _children(node, kinds=("success_nodes", "failure_nodes", "always_nodes")):
    return [link["identifier"] for kind in kinds for link in node.get("related", {}).get(kind, [])]


def test_workflow_is_assess_patch_report_with_a_failure_path(installed_collection):
    templates, nodes = _workflow(installed_collection)
    playbook = {i: templates[n["unified_job_template"]["name"]]["playbook"] for i, n in nodes.items()}
    roots = set(nodes) - {child for node in nodes.values() for child in _children(node)}
    assert [playbook[r] for r in roots] == ["playbooks/assess.yml"]
    (root,) = roots
    (patch,) = _children(nodes[root], ("success_nodes",))
    assert playbook[patch] == "playbooks/patch.yml"
    (report,) = _children(nodes[patch], ("success_nodes",))
    assert playbook[report] == "extensions/awx/merge_reports.yml"
    assert not nodes[report].get("extra_data", {}).get("hotpatch_awx_upstream_failed")
    # Every node that can fail has a failure path, which reports and then fails the workflow.
    for identifier in (root, patch):
        failure = _children(nodes[identifier], ("failure_nodes", "always_nodes"))
        assert failure, f"{identifier} has no failure path"
        for target in failure:
            assert playbook[target] == "extensions/awx/merge_reports.yml"
            assert nodes[target]["extra_data"]["hotpatch_awx_upstream_failed"] is True
    # No cycle.
    seen, stack = set(), [(root, ())]
    while stack:
        identifier, path = stack.pop()
        assert identifier not in path, f"cycle through {identifier}"
        seen.add(identifier)
        stack.extend((child, (*path, identifier)) for child in _children(nodes[identifier]))
    assert seen == set(nodes)


def test_credential_type_injects_validation_and_no_secret(installed_collection, tmp_path):
    credential_type = load_config(installed_collection)["hotpatch_awx_credential_type"]
    assert credential_type["kind"] in ("cloud", "net")  # the kinds a custom credential type may have
    fields = {f["id"]: f for f in credential_type["inputs"]["fields"]}
    assert set(credential_type["inputs"]["required"]) <= set(fields)
    assert not any(f.get("secret") for f in fields.values()), "secrets belong to the Machine credential"
    extra_vars = credential_type["injectors"]["extra_vars"]
    for forbidden in (
        "ansible_connection",
        "ansible_port",
        "ansible_password",
        "ansible_user",
        "ansible_host",
    ):
        assert forbidden not in extra_vars, f"{forbidden} as an extra var would override the inventory"
    env = ImmutableSandboxedEnvironment()
    ca_file = tmp_path / "ca.pem"
    rendered = {
        key: env.from_string(value).render(
            ca_cert="PEM", transport="ntlm", tower={"filename": {"ca_cert": str(ca_file)}}
        )
        for key, value in extra_vars.items()
    }
    assert rendered == {
        "ansible_winrm_scheme": "https",
        "ansible_winrm_transport": "ntlm",
        "ansible_winrm_server_cert_validation": "validate",
        "ansible_winrm_ca_trust_path": str(ca_file),
    }
    assert (
        env.from_string(credential_type["injectors"]["file"]["template.ca_cert"]).render(ca_cert="PEM")
        == "PEM"
    )
    assert set(fields["transport"]["choices"]) >= {"ntlm", "credssp", "kerberos"}


def test_loader_playbook_is_valid(installed_collection):
    """ansible-playbook accepts the loader (the awx.awx modules and its data resolve)."""
    playbook = awx_dir(installed_collection) / "configure_controller.yml"
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "--syntax-check", str(playbook)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tasks = load_yaml(playbook)[0]["tasks"]
    modules = {key for task in tasks for key in task if key.startswith("awx.awx.")}
    assert {
        "awx.awx.credential_type",
        "awx.awx.execution_environment",
        "awx.awx.project",
        "awx.awx.job_template",
        "awx.awx.workflow_job_template",
    } <= modules
    job_template = next(t for t in tasks if "awx.awx.job_template" in t)["awx.awx.job_template"]
    # Node extra_data (report_failed) and survey answers are only accepted when the template asks for vars.
    assert job_template["ask_variables_on_launch"] is True
    assert job_template["survey_enabled"] is True


def _load(playbook, api, *extra):
    env = dict(
        os.environ,
        CONTROLLER_HOST=api.url,
        CONTROLLER_OAUTH_TOKEN="test-token",
        CONTROLLER_VERIFY_SSL="false",
        ANSIBLE_NOCOLOR="true",
    )
    command = [str(BIN / "ansible-playbook"), str(playbook), *extra]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=300, env=env)


def test_loader_creates_the_configuration_on_a_controller(installed_collection):
    """configure_controller.yml against a stand-in of the controller API: every object, survey and link."""
    config = load_config(installed_collection)
    playbook = awx_dir(installed_collection) / "configure_controller.yml"
    with FakeController(project_dir=installed_collection) as api:
        org = api.find("organizations", name="Default")[0]["id"]
        api.add("inventories", name="Windows servers", organization=org)
        machine = api.find("credential_types", name="Machine")[0]["id"]
        api.add("credentials", name="Windows administrator", credential_type=machine, organization=org)
        result = _load(playbook, api, "-e", CA_VARS)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]

        (ctype,) = api.find("credential_types", name=config["hotpatch_awx_credential_type"]["name"])
        assert (
            ctype["injectors"]["extra_vars"]["ansible_winrm_ca_trust_path"] == "{{ tower.filename.ca_cert }}"
        )
        (https,) = api.find("credentials", name=config["hotpatch_awx_https_credential"])
        assert https["credential_type"] == ctype["id"]
        assert https["inputs"]["ca_cert"].startswith("-----BEGIN CERTIFICATE-----")
        (ee,) = api.find("execution_environments", name=config["hotpatch_awx_execution_environment"])
        assert ee["image"] == config["hotpatch_awx_ee_image"]
        (project,) = api.find("projects", name=config["hotpatch_awx_project"])
        assert project["scm_url"] == config["hotpatch_awx_scm_url"]
        assert project["default_environment"] == ee["id"]

        credentials = {api.find("credentials", name="Windows administrator")[0]["id"], https["id"]}
        for template in config["hotpatch_awx_job_templates"]:
            (created,) = api.find("job_templates", name=template["name"])
            assert created["playbook"] == template["playbook"]
            assert created["project"] == project["id"]
            assert set(created["credentials"]) == credentials
            assert created["survey_enabled"] is True
            assert created["survey_spec"] == load_yaml(
                awx_dir(installed_collection) / "surveys" / template["survey"]
            )
            assert created["ask_job_type_on_launch"] is template["ask_job_type_on_launch"]
            saved_vars = created["extra_vars"]
            saved_vars = yaml.safe_load(saved_vars) if isinstance(saved_vars, str) else saved_vars
            assert (saved_vars or {}) == (template["extra_vars"] or {}), (
                "Jinja must reach the controller untemplated"
            )

        (workflow,) = api.find("workflow_job_templates", name=config["hotpatch_awx_workflow"]["name"])
        assert workflow["survey_spec"]["spec"]
        nodes = {
            n["identifier"]: n
            for n in api.find("workflow_job_template_nodes", workflow_job_template=workflow["id"])
        }
        assert set(nodes) == {n["identifier"] for n in config["hotpatch_awx_workflow"]["workflow_nodes"]}
        by_id = {n["id"]: i for i, n in nodes.items()}
        for wanted in config["hotpatch_awx_workflow"]["workflow_nodes"]:
            node = nodes[wanted["identifier"]]
            template = api.objects["job_templates"][node["unified_job_template"]]
            assert template["name"] == wanted["unified_job_template"]["name"]
            for kind in ("success_nodes", "failure_nodes", "always_nodes"):
                expected = {link["identifier"] for link in wanted.get("related", {}).get(kind, [])}
                assert {by_id[i] for i in node[kind]} == expected, (wanted["identifier"], kind)
            assert (node.get("extra_data") or {}) == (wanted.get("extra_data") or {})

        # Loading again changes nothing: no duplicate object.
        counts = {
            endpoint: len(items) for endpoint, items in api.objects.items() if endpoint != "project_updates"
        }
        again = _load(playbook, api, "-e", CA_VARS)
        assert again.returncode == 0, again.stdout[-4000:]
        assert {e: len(i) for e, i in api.objects.items() if e != "project_updates"} == counts


def test_stand_in_refuses_what_the_controller_refuses(installed_collection):
    """The stand-in is strict where it matters: a missing playbook and a bad survey are refused."""
    with FakeController(project_dir=installed_collection) as api:
        status, body = api.handle("POST", "/api/v2/job_templates/", {}, {"name": "x", "playbook": "nope.yml"})
        assert status == 400 and "playbook" in body["error"]
        template = api.add("job_templates", name="y", playbook="playbooks/patch.yml")
        status, body = api.handle(
            "POST", f"/api/v2/job_templates/{template['id']}/survey_spec/", {}, {"name": "s"}
        )
        assert status == 400
