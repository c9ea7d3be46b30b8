"""policyc: a language and compiler for customer-service performance and pay schemes.

    >>> import policyc
    >>> policy = policyc.load("policies/taobao_aftersales.policy")
    >>> result = policy.score(record)
    >>> result["salary"], result.explain()
"""

__version__ = "0.1.0"

from .diagnostics import Diagnostic, PolicyError  # noqa: E402
from .policy import Policy, Result, load, loads  # noqa: E402
from .runtime import RecordError, RecordIssue  # noqa: E402

__all__ = ["Diagnostic", "Policy", "PolicyError", "RecordError", "RecordIssue", "Result", "load", "loads",
           "__version__"]
