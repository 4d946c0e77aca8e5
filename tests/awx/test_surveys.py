"""Every survey of the AWX configuration is one AWX accepts, and every variable it asks for reaches a role
that takes it, with a type the role accepts (checked with ansible-core's own argument spec validator)."""

import re

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from tests.awx import survey as awx_survey
from tests.awx.controller import (
    awx_dir,
    load_config,
    load_survey,
    playbook_path,
    playbook_roles,
    role_defaults,
    role_spec,
)
from tests.conftest import INSTALLED

# Role argument types each survey question type can feed. AWX sends text as str, integers as int, and a
# multiple choice answer as one of its strings: a bool argument takes the choices "true"/"false" only.
COMPATIBLE = {
    "text": {"str", "path", "raw"},
    "textarea": {"str", "path", "raw"},
    "password": {"str", "raw"},
    "integer": {"int", "float", "raw"},
    "float": {"float", "raw"},
    "multiplechoice": {"str", "raw", "bool"},
    "multiselect": {"list", "raw"},
}


def _templates(installed):
    config = load_config(installed)
    templates = [dict(t, kind="job template") for t in config["hotpatch_awx_job_templates"]]
    workflow = config["hotpatch_awx_workflow"]
    names = {node["unified_job_template"]["name"] for node in workflow["workflow_nodes"]}
    playbooks = [t["playbook"] for t in templates if t["name"] in names]
    templates.append(dict(workflow, kind="workflow", playbooks=playbooks, extra_vars={}))
    return templates


@pytest.fixture(params=[t["name"] for t in _templates(INSTALLED)])
def template(request, installed_collection):
    return next(t for t in _templates(installed_collection) if t["name"] == request.param)


def _receivers(installed, template):
    """{role argument: (role, argument spec)} of every role the template's playbooks run, and the vars that
    the template (extra_vars) or its playbooks (role vars) map onto role arguments."""
    arguments, mapped = {}, {}
    playbooks = template.get("playbooks") or [template["playbook"]]
    for playbook in playbooks:
        for role, role_vars in playbook_roles(playbook_path(installed, playbook)):
            for name, spec in role_spec(installed, role).items():
                arguments.setdefault(name, (role, spec))
            mapped.update(role_vars)
    if template["kind"] == "workflow":
        for jt in load_config(installed)["hotpatch_awx_job_templates"]:
            if jt["playbook"] in playbooks:
                mapped.update(jt.get("extra_vars") or {})
    mapped.update(template.get("extra_vars") or {})
    return arguments, mapped


def test_every_survey_file_is_used(installed_collection):
    used = {t["survey"] for t in _templates(installed_collection)}
    shipped = {p.name for p in (awx_dir(installed_collection) / "surveys").glob("*.yml")}
    assert shipped == used


def test_survey_is_valid_for_awx(installed_collection, template):
    questions = awx_survey.validate_survey(load_survey(installed_collection, template["survey"]))
    assert questions, template["name"]


def test_survey_variables_reach_a_role_argument_of_a_fitting_type(installed_collection, template):
    spec = load_survey(installed_collection, template["survey"])
    arguments, mapped = _receivers(installed_collection, template)
    for question in spec["spec"]:
        variable, qtype = question["variable"], question["type"]
        if variable in arguments:
            role, argument = arguments[variable]
            kind = argument.get("type", "str")
            assert kind in COMPATIBLE[qtype], (
                f"{template['name']}: survey {variable} ({qtype}) feeds {role} argument of type {kind}"
            )
            choices = awx_survey.choices_of(question)
            if kind == "bool":
                assert sorted(choices) == ["false", "true"], (
                    f"{variable}: a bool takes the choices true/false"
                )
            elif qtype == "multiplechoice" and argument.get("choices"):
                assert set(choices) <= set(argument["choices"]), (
                    f"{variable}: {choices} vs {argument['choices']}"
                )
            elif qtype in ("text", "textarea") and argument.get("choices"):
                pytest.fail(f"{variable}: free text for an argument with choices {argument['choices']}")
        else:
            # Not a role argument itself: the template or playbook must map it onto one.
            users = [
                name
                for name, value in mapped.items()
                if isinstance(value, str) and re.search(rf"\b{variable}\b", value) and name in arguments
            ]
            assert users, f"{template['name']}: survey variable {variable} reaches no role argument"


def test_survey_defaults_are_the_role_defaults(installed_collection, template):
    """Launching with the defaults does what the playbook does on the command line."""
    spec = load_survey(installed_collection, template["survey"])
    arguments, _ = _receivers(installed_collection, template)
    for question in spec["spec"]:
        if question["variable"] not in arguments or question.get("default") in (None, ""):
            continue
        role, argument = arguments[question["variable"]]
        expected = argument.get(
            "default", role_defaults(installed_collection, role).get(question["variable"])
        )
        answer = question["default"]
        if argument.get("type") == "bool":
            answer = answer == "true"
        elif argument.get("type") in ("raw", None) and isinstance(expected, int) and str(answer).isdigit():
            answer = int(answer)
        assert answer == expected, (
            f"{template['name']}: {question['variable']} default {answer!r} != {expected!r}"
        )


def _validate_against_roles(installed, template, extra_vars):
    arguments, _ = _receivers(installed, template)
    by_role = {}
    for name, value in extra_vars.items():
        if name in arguments:
            role, _spec = arguments[name]
            by_role.setdefault(role, {})[name] = value
    for role, values in by_role.items():
        spec = role_spec(installed, role)
        result = ArgumentSpecValidator({k: v for k, v in spec.items() if k in values}).validate(values)
        assert not result.error_messages, f"{template['name']} -> {role}: {result.error_messages}"


def test_launch_with_defaults_passes_role_validation(installed_collection, template):
    spec = load_survey(installed_collection, template["survey"])
    answers = {}
    for question in spec["spec"]:
        if question["required"] and question.get("default") in (None, ""):
            answers[question["variable"]] = "/srv/hotpatch-reports/run-1"
    extra_vars = awx_survey.launch_extra_vars(spec, answers)
    _validate_against_roles(installed_collection, template, extra_vars)


def test_launch_with_every_choice_passes_role_validation(installed_collection, template):
    spec = load_survey(installed_collection, template["survey"])
    base = {
        q["variable"]: "/srv/hotpatch-reports/run-1"
        for q in spec["spec"]
        if q["required"] and q.get("default") in (None, "")
    }
    for question in spec["spec"]:
        for choice in awx_survey.choices_of(question):
            extra_vars = awx_survey.launch_extra_vars(spec, dict(base, **{question["variable"]: choice}))
            _validate_against_roles(installed_collection, template, extra_vars)


def test_patch_survey_covers_the_rollout_settings(installed_collection):
    """Batch size, per-group cap, fail percentage, policy choices, report directory and a date override."""
    config = load_config(installed_collection)
    patch = next(t for t in config["hotpatch_awx_job_templates"] if t["playbook"] == "playbooks/patch.yml")
    variables = {q["variable"] for q in load_survey(installed_collection, patch["survey"])["spec"]}
    assert {
        "patch_batch_size",
        "patch_max_per_group",
        "patch_max_fail_percentage",
        "patch_unexpected_reboot",
        "assess_defer_non_security",
        "hotpatch_awx_report_root",
        "hotpatch_date",
    } <= variables
    assert patch["ask_job_type_on_launch"] is True, "check mode is chosen as the job type"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"patch_max_per_group": 0}, "below the minimum"),
        ({"patch_max_fail_percentage": 101}, "above the maximum"),
        ({"patch_unexpected_reboot": "sometimes"}, "not one of"),
        ({"patch_max_per_group": "2"}, "not an integer"),
        ({"patch_batch_size": ""}, "required"),
        ({"patch_nonsense": 1}, "does not ask"),
    ],
)
def test_awx_refuses_bad_answers(installed_collection, answers, message):
    """The survey bounds are real: AWX refuses these launches before any host is touched."""
    with pytest.raises(awx_survey.SurveyError, match=message):
        awx_survey.launch_extra_vars(load_survey(installed_collection, "patch.yml"), answers)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "boolean"}, "is not one of"),
        ({"default": "7"}, "does not fit"),
        ({"min": "1"}, "must be an integer"),
        ({"required": "yes"}, "must be a boolean"),
    ],
)
def test_survey_checker_rejects_what_awx_rejects(installed_collection, change, message):
    """The oracle itself fails on bad specs (so a passing survey means something)."""
    spec = load_survey(installed_collection, "patch.yml")
    question = next(q for q in spec["spec"] if q["variable"] == "patch_max_per_group")
    question.update(change)
    with pytest.raises(awx_survey.SurveyError, match=message):
        awx_survey.validate_survey(spec)
