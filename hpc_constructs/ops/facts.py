"""What the operations constructs read and write in CloudWatch, EventBridge, Budgets and tags,
each with its source (standard library only, so plans and tests load it without jsii).

Metric names and dimensions are AWS's; the canned-metric tables aws-cdk-lib generates from
the CloudWatch service metadata (``aws-*/lib/*-canned-metrics.generated.js`` in aws-cdk-lib
2.275.0) list the same names with the same dimensions.
"""

from __future__ import annotations

import re

from hpc_constructs import limits

# --- CloudWatch metrics ---------------------------------------------------------------------

#: Amazon EC2 Auto Scaling User Guide, "Monitor CloudWatch metrics for your Auto Scaling
#: groups": group metrics (collected when the group enables them; EfaComputeFleet enables all)
#: at one-minute granularity, dimension AutoScalingGroupName.
AUTOSCALING_NAMESPACE = "AWS/AutoScaling"
AUTOSCALING_DIMENSION = "AutoScalingGroupName"
GROUP_IN_SERVICE_INSTANCES = "GroupInServiceInstances"
GROUP_DESIRED_CAPACITY = "GroupDesiredCapacity"
GROUP_PENDING_INSTANCES = "GroupPendingInstances"

#: FSx for Lustre User Guide, "Amazon FSx for Lustre metrics and dimensions" (network I/O,
#: metadata and storage capacity metrics, dimension FileSystemId) and "How to use FSx for
#: Lustre CloudWatch metrics": throughput is SUM(DataReadBytes + DataWriteBytes)/PERIOD, the
#: ``Sum`` of FreeDataStorageCapacity is the file system's free bytes (over all OSTs).
FSX_NAMESPACE = "AWS/FSx"
FSX_DIMENSION = "FileSystemId"
DATA_READ_BYTES = "DataReadBytes"
DATA_WRITE_BYTES = "DataWriteBytes"
DATA_READ_OPERATIONS = "DataReadOperations"
DATA_WRITE_OPERATIONS = "DataWriteOperations"
METADATA_OPERATIONS = "MetadataOperations"
FREE_DATA_STORAGE_CAPACITY = "FreeDataStorageCapacity"
CLIENT_CONNECTIONS = "ClientConnections"

#: AWS DataSync User Guide, "Monitoring data transfers with Amazon CloudWatch metrics":
#: namespace AWS/DataSync, per-task metrics with dimension TaskId (the ``task-...`` id).
DATASYNC_NAMESPACE = "AWS/DataSync"
DATASYNC_DIMENSION = "TaskId"
BYTES_TRANSFERRED = "BytesTransferred"
FILES_TRANSFERRED = "FilesTransferred"

#: Amazon EventBridge User Guide, "Monitoring Amazon EventBridge": TriggeredRules counts the
#: events a rule matched; only RuleName for rules on the default event bus.
EVENTS_NAMESPACE = "AWS/Events"
EVENTS_DIMENSION = "RuleName"
TRIGGERED_RULES = "TriggeredRules"

# --- EventBridge events ---------------------------------------------------------------------

#: AWS Batch User Guide, "Job state change events" and "Job states": source aws.batch,
#: ``detail.jobQueue`` (the queue ARN) and ``detail.status``. No event is created for the
#: initial submission, so SUBMITTED never appears in an event.
BATCH_SOURCE = "aws.batch"
BATCH_JOB_STATE_CHANGE = "Batch Job State Change"
BATCH_EVENT_STATES = ("PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
#: A job attempt whose host was reclaimed ends with this status reason prefix (AWS Batch User
#: Guide, "Automated job retries": ``Host EC2*``); the event's ``detail`` is the job's
#: ``JobDetail`` (AWS Batch User Guide, "Job state change events"), whose ``attempts[]`` carry
#: each attempt's ``statusReason``. A retried job goes back to RUNNABLE with that attempt.
BATCH_HOST_RECLAIMED_PREFIX = limits.BATCH_SPOT_RECLAIMED_STATUS_REASON.rstrip("*")

#: Amazon EC2 Auto Scaling User Guide, "Amazon EC2 Auto Scaling event reference"
#: (unsuccessful scaling events): ``detail.AutoScalingGroupName``, ``detail.StatusMessage``.
AUTOSCALING_SOURCE = "aws.autoscaling"
LAUNCH_UNSUCCESSFUL = "EC2 Instance Launch Unsuccessful"

#: AWS DataSync User Guide, "Monitoring events with EventBridge": task execution state
#: changes carry ``detail.State``; the execution ARN (``<task ARN>/execution/exec-...``) is
#: the event's resource.
DATASYNC_SOURCE = "aws.datasync"
DATASYNC_EXECUTION_STATE_CHANGE = "DataSync Task Execution State Change"
DATASYNC_SUCCESS_STATE = "SUCCESS"
DATASYNC_ERROR_STATE = "ERROR"

# --- names and limits -----------------------------------------------------------------------

#: CloudWatch API Reference, PutDashboard: DashboardName up to 255 of A-Z, a-z, 0-9, - and _.
DASHBOARD_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
GIB = 1024**3

#: AWS Budgets API Reference (botocore budgets 2016-10-20): BudgetName 1-100 characters
#: without ':' or '\\'; a notification has at most one SNS and ten email subscribers; types
#: ACTUAL and FORECASTED; COST budgets with a MONTHLY time unit. The CloudFormation schema
#: of AWS::Budgets::Budget (cfn-lint) bounds Notification.Threshold to 0.1-1,000,000,000.
BUDGET_NAME = re.compile(r"^[^:\\]{1,100}$")
BUDGET_MAX_EMAILS = 10
BUDGET_MIN_THRESHOLD = 0.1
#: A percentage threshold above this is never useful (spend ten times the limit).
BUDGET_MAX_THRESHOLD_PERCENT = 1000.0
#: Budget limit: the API takes any positive decimal; above this is surely a typo.
BUDGET_MAX_LIMIT_USD = 1_000_000_000.0

#: Tagging AWS Resources User Guide, "Tag naming limits and requirements": keys 1-128 and
#: values 0-256 Unicode characters of letters, digits, spaces and ``_ . : / = + - @``; the
#: ``aws:`` prefix is reserved.
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAG_CHARACTERS = re.compile(r"^[\w\s.:/=+\-@]*$")
RESERVED_TAG_PREFIX = "aws:"
