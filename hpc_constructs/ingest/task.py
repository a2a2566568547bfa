"""``DataSyncTransfer``: one DataSync task rendered from its plan, with its two locations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_datasync as datasync
from constructs import Construct

from hpc_constructs.ingest._plan import TaskPlan
from hpc_constructs.ingest.destinations import DataSyncDestination
from hpc_constructs.ingest.sources import DataSyncSource

if TYPE_CHECKING:
    from hpc_constructs.ingest.construct import DataIngest


def _filters(value: str | None) -> list[datasync.CfnTask.FilterRuleProperty] | None:
    """One SIMPLE_PATTERN rule: the schema allows at most one, patterns joined with ``|``."""
    if value is None:
        return None
    return [datasync.CfnTask.FilterRuleProperty(filter_type="SIMPLE_PATTERN", value=value)]


class DataSyncTransfer(Construct):
    """One DataSync task (``AWS::DataSync::Task``) with its source and destination locations.

    Created by :meth:`DataIngest.add_task`. ``task`` is the L1 (escape hatch): DataSync has no
    L2 in aws-cdk-lib. ``plan`` holds the resolved, validated task settings.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ingest: DataIngest,
        source: DataSyncSource,
        destination: DataSyncDestination,
        plan: TaskPlan,
    ) -> None:
        super().__init__(scope, id)
        self.source = source
        self.destination = destination
        self.plan = plan
        self.source_location_arn = source._location_arn(self, ingest)
        self.destination_location_arn = destination._location_arn(self, ingest)
        report_config = self._report_config(ingest, plan.task_report)
        log_group = ingest._ensure_log_group()
        # L1: aws-cdk-lib has no DataSync L2.
        self.task = datasync.CfnTask(
            self,
            "Task",
            source_location_arn=self.source_location_arn,
            destination_location_arn=self.destination_location_arn,
            cloud_watch_log_group_arn=log_group.log_group_arn,
            options=datasync.CfnTask.OptionsProperty(
                verify_mode=plan.verify_mode,
                overwrite_mode=plan.overwrite_mode,
                preserve_deleted_files=plan.preserve_deleted_files,
                transfer_mode=plan.transfer_mode,
                bytes_per_second=plan.bytes_per_second,
                log_level=plan.log_level,
            ),
            schedule=(
                datasync.CfnTask.TaskScheduleProperty(
                    schedule_expression=plan.schedule, status="ENABLED"
                )
                if plan.schedule
                else None
            ),
            includes=_filters(plan.includes),
            excludes=_filters(plan.excludes),
            task_report_config=report_config,
            task_mode=plan.task_mode,
        )
        self.task.node.add_dependency(ingest._log_policy_dependency())
        #: The task ARN (``Fn::GetAtt TaskArn``).
        self.task_arn: str = self.task.attr_task_arn

    @staticmethod
    def _report_config(
        ingest: DataIngest, output_type: str | None
    ) -> datasync.CfnTask.TaskReportConfigProperty | None:
        if output_type is None:
            return None
        role = ingest._report_role()
        return datasync.CfnTask.TaskReportConfigProperty(
            destination=datasync.CfnTask.DestinationProperty(
                s3=datasync.CfnTask.S3Property(
                    s3_bucket_arn=ingest.landing_bucket.bucket_arn,
                    bucket_access_role_arn=role.role_arn,
                    subdirectory=ingest.task_report_prefix,
                )
            ),
            output_type=output_type,
        )
