"""Sample stacks composed from hpc_constructs; `app.py` instantiates them."""

from __future__ import annotations

import aws_cdk as cdk

from stacks.network_stack import HpcNetworkStack

__all__ = ["HpcNetworkStack", "add_sample_stacks", "sample_environment"]


def sample_environment(app: cdk.App) -> cdk.Environment:
    """The account/region the samples target; both are pinned in cdk.json so synth is offline."""
    account = app.node.try_get_context("hpc-constructs:account")
    region = app.node.try_get_context("hpc-constructs:region")
    return cdk.Environment(account=str(account), region=str(region))


def add_sample_stacks(app: cdk.App) -> list[cdk.Stack]:
    env = sample_environment(app)
    return [HpcNetworkStack(app, "HpcNetwork", env=env)]
