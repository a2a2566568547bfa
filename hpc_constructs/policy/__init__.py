"""The HPC policy pack: cdk-nag rules ``HPC-*`` for any CDK app (``HpcChecks``).

``rules`` holds the rules as pure functions on template-shaped dicts (no constructs); ``pack``
applies them as a cdk-nag 3 ``NagPack``. The facts come from ``hpc_constructs.limits`` and the
instance catalog, shared with the cfn-lint rule pack (``hpc-lint``).
"""

from hpc_constructs.policy.pack import PACK_NAME, HpcChecks
from hpc_constructs.policy.rules import RULES, Rule, findings

__all__ = ["PACK_NAME", "RULES", "HpcChecks", "Rule", "findings"]
