"""The one error type of the hotpatch.windows decision layer."""


class HotpatchError(Exception):
    """Bad input to a decision function: the message says what was wrong and what is expected.

    Filters turn it into ``AnsibleFilterError``; action plugins into a failed result naming the host.
    """
