"""cfn-lint rule pack for HPC templates (E9101-E9103).

Run it with ``hpc-lint TEMPLATE... [--region R]`` (installed with this package; it picks the
region from the CDK cloud assembly's manifest), or pass this directory to cfn-lint yourself,
template first and with the region the template targets (``--append-rules`` takes several
values, so a template after it is read as a rules directory)::

    cfn-lint template.yaml --regions us-east-2 --append-rules "$RULES_DIRECTORY"

This module imports nothing but ``pathlib``; the rules themselves (``HpcRules.py``) import
cfn-lint and ``limits.py`` only, never aws_cdk.
"""

from pathlib import Path

RULES_DIRECTORY = Path(__file__).resolve().parent
