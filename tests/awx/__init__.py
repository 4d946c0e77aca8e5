"""Tests of hotpatch.windows on AWX / Automation Controller: EE, configuration as code, runner, slicing."""
