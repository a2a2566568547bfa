"""cfn-lint rule pack for HPC templates: pass this directory to ``cfn-lint --append-rules``."""

from pathlib import Path

RULES_DIRECTORY = Path(__file__).resolve().parent
