#!/usr/bin/env python3
"""CDK app: the sample HPC stacks, with cdk-nag's AwsSolutions pack checking every template."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks import add_sample_stacks

app = cdk.App()
add_sample_stacks(app)
# cdk-nag 3.x plugs into CDK's policy validation: any finding fails `cdk synth` with a report.
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
