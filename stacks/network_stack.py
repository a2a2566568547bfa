"""Placeholder network stack until NetworkFabric lands: a VPC with flow logs and an S3 endpoint."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct


class HpcNetworkStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.vpc = ec2.Vpc(self, "Vpc", max_azs=2, nat_gateways=1)
        log_group = logs.LogGroup(self, "FlowLogs", retention=logs.RetentionDays.ONE_YEAR)
        self.vpc.add_flow_log(
            "FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group)
        )
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
