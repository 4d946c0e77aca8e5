"""The AWX / Automation Controller survey rules, for tests: what the API accepts when a survey is saved
(`POST .../survey_spec/`) and the extra vars a launch with answers produces.

Written from AWX's documented behaviour (api/views JobTemplateSurveySpec and models/mixins
SurveyJobTemplateMixin); it is a test oracle, not part of the collection.
"""

QUESTION_TYPES = {
    "text": (str,),
    "textarea": (str,),
    "password": (str,),
    "integer": (int,),
    "float": (float, int),
    "multiplechoice": (str,),
    "multiselect": (str, list),
}
TEXT_TYPES = ("text", "textarea", "password")
CHOICE_TYPES = ("multiplechoice", "multiselect")


class SurveyError(ValueError):
    """A survey spec or a launch answer that AWX would refuse."""


def choices_of(question):
    """The choices of a multiple choice question: AWX takes a list or a newline-separated string."""
    choices = question.get("choices", [])
    if isinstance(choices, str):
        choices = [line for line in choices.splitlines() if line.strip()]
    return list(choices)


def _check_question(index, question, seen):
    where = f"survey question {index}"
    if not isinstance(question, dict):
        raise SurveyError(f"{where} is not a mapping")
    for field in ("type", "question_name", "variable", "required"):
        if field not in question:
            raise SurveyError(f"'{field}' missing from {where}")
    for field in ("type", "question_name", "variable"):
        if not isinstance(question[field], str) or not question[field]:
            raise SurveyError(f"'{field}' of {where} must be a non-empty string")
    if not isinstance(question["required"], bool):
        raise SurveyError(f"'required' of {where} must be a boolean")
    where = f"{where} ({question['variable']})"
    if not question["variable"].isidentifier():
        raise SurveyError(f"{where}: the variable name is not a valid Ansible variable name")
    if question["variable"] in seen:
        raise SurveyError(f"{where}: variable duplicated")
    seen.add(question["variable"])
    qtype = question["type"]
    if qtype not in QUESTION_TYPES:
        raise SurveyError(f"{where}: type {qtype!r} is not one of {', '.join(QUESTION_TYPES)}")
    unknown = set(question) - {
        "type", "question_name", "question_description", "variable", "required", "default", "choices",
        "min", "max", "new_question",
    }  # fmt: skip
    if unknown:
        raise SurveyError(f"{where}: unknown field(s) {sorted(unknown)}")
    low, high = question.get("min"), question.get("max")
    for key, limit in (("min", low), ("max", high)):
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise SurveyError(f"{where}: {key} must be an integer")
    if low is not None and high is not None and low > high:
        raise SurveyError(f"{where}: min is larger than max")
    default = question.get("default", "")
    if default not in ("", None):
        if isinstance(default, bool) or not isinstance(default, QUESTION_TYPES[qtype]):
            raise SurveyError(f"{where}: default {default!r} does not fit type {qtype}")
        if qtype in TEXT_TYPES or qtype in ("integer", "float"):
            _check_range(where, question, default)
    if qtype in CHOICE_TYPES:
        choices = choices_of(question)
        if not choices:
            raise SurveyError(f"{where}: a {qtype} question must list its choices")
        if len(set(choices)) != len(choices):
            raise SurveyError(f"{where}: choices repeat")
        defaults = default if isinstance(default, list) else [d for d in str(default or "").splitlines() if d]
        if qtype == "multiplechoice" and len(defaults) > 1:
            raise SurveyError(f"{where}: a multiple choice question takes one default")
        if any(d not in choices for d in defaults):
            raise SurveyError(f"{where}: default {default!r} is not one of the choices {choices}")
    if question["required"] and qtype in TEXT_TYPES and (question.get("min") or 0) < 1:
        raise SurveyError(f"{where}: a required text question needs min >= 1, else an empty answer passes")


def _check_range(where, question, value):
    low, high = question.get("min"), question.get("max")
    size = len(value) if isinstance(value, str) else value
    what = "length" if isinstance(value, str) else "value"
    if low is not None and size < low:
        raise SurveyError(f"{where}: {what} of {value!r} is below the minimum {low}")
    if high is not None and size > high:
        raise SurveyError(f"{where}: {what} of {value!r} is above the maximum {high}")


def validate_survey(spec):
    """Raise SurveyError unless AWX would save this survey spec; return its questions by variable."""
    if not isinstance(spec, dict):
        raise SurveyError("a survey spec is a mapping with name, description and spec")
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if field not in spec:
            raise SurveyError(f"field '{field}' is missing from the survey spec")
        if not isinstance(spec[field], kind):
            raise SurveyError(f"field '{field}' of the survey spec must be a {kind.__name__}")
    if not spec["spec"]:
        raise SurveyError("the survey spec lists no question")
    seen = set()
    for index, question in enumerate(spec["spec"]):
        _check_question(index, question, seen)
    return {question["variable"]: question for question in spec["spec"]}


def launch_extra_vars(spec, answers=None):
    """The extra vars AWX gives the job for these survey answers (defaults for unanswered questions).

    Raises SurveyError where AWX refuses the launch. An optional question left empty is not passed.
    """
    answers = dict(answers or {})
    result = {}
    for question in validate_survey(spec).values():
        name, qtype = question["variable"], question["type"]
        value = answers.pop(name, question.get("default", ""))
        if value in ("", None) or value == []:
            if question["required"]:
                raise SurveyError(f"survey question {name!r} is required")
            continue
        where = f"survey answer {name}"
        if qtype in ("integer", "float"):
            if isinstance(value, bool) or not isinstance(value, QUESTION_TYPES[qtype]):
                raise SurveyError(f"{where}: {value!r} is not an {qtype}")
            _check_range(where, question, value)
        elif qtype in TEXT_TYPES:
            if not isinstance(value, str):
                raise SurveyError(f"{where}: {value!r} is not text")
            _check_range(where, question, value)
        elif qtype == "multiplechoice":
            if value not in choices_of(question):
                raise SurveyError(f"{where}: {value!r} is not one of {choices_of(question)}")
        else:
            value = value if isinstance(value, list) else [v for v in value.splitlines() if v]
            if any(v not in choices_of(question) for v in value):
                raise SurveyError(f"{where}: {value!r} are not all among {choices_of(question)}")
        result[name] = value
    if answers:
        raise SurveyError(f"answers for variables the survey does not ask: {sorted(answers)}")
    return result
