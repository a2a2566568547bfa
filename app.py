#!/usr/bin/env python3
"""CDK app: the sample HPC stacks, with cdk-nag's AwsSolutions pack checking every template."""

from __future__ import annotations

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from hpc_constructs import HpcValidationError
from stacks import add_sample_stacks

app = cdk.App()
try:
    add_sample_stacks(app)
except HpcValidationError as err:  # bad -c overrides or construct props: say what and stop
    print(f"Invalid configuration:\n{err}", file=sys.stderr)
    sys.exit(1)
# cdk-nag 3.x plugs into CDK's policy validation: any finding fails `cdk synth` with a report.
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
