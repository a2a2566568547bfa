"""``SlurmAccountingDatabase``: Aurora MySQL-compatible Serverless v2 for Slurm accounting
(slurmdbd), for ``ParallelCluster(accounting_database=...)`` (``SlurmSettings.Database``).

PCS runs its own accounting database: ``PcsCluster(accounting=PcsAccounting())`` instead.
"""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from hpc_constructs.errors import Validator, check_prop_types, is_token
from hpc_constructs.nodes import SubnetsInput, as_subnet_selection

__all__ = ["SlurmAccountingDatabase"]

#: Aurora Serverless v2 capacity in ACUs (``AWS::RDS::DBCluster``
#: ``ServerlessV2ScalingConfiguration`` in cfn-lint's schema: half steps, MinCapacity from 0
#: (auto-pause versions), MaxCapacity above 0.5 and at most 128).
MIN_ACU, MAX_ACU = 0.0, 128.0
#: ParallelCluster ``DatabaseSchema.user_name`` is free text; MySQL user names are at most 32
#: characters; this library keeps them to letters, digits and underscores.
_USER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
#: Characters left out of the generated password: ones that need quoting in slurmdbd.conf or
#: a shell, and the ones RDS refuses in a master password (/ @ " and space).
_EXCLUDED = " %+~`#$&*()|[]{}:;<>?!'/@\"\\"


class SlurmAccountingDatabase(Construct):
    """An Aurora MySQL-compatible Serverless v2 cluster for Slurm accounting.

    Storage encrypted, deletion protection on, ``RemovalPolicy.RETAIN`` (job history), in
    private subnets, its MySQL port open to nothing until a cluster uses it
    (``ParallelCluster(accounting_database=db)`` opens it to the head node only, which runs
    slurmdbd). The password is generated into a Secrets Manager secret holding the password
    alone (:attr:`secret`, ``SlurmSettings.Database.PasswordSecretArn``); it never appears in
    the template or the configuration.

    :param vpc: the cluster's VPC (a cluster in another VPC is refused).
    :param vpc_subnets: private subnets in two AZs or more (an RDS subnet group needs two).
        Default: - the VPC's private subnets.
    :param user_name: the database user slurmdbd connects as. Default: - ``"slurm"``.
    :param min_capacity_acu: Serverless v2 minimum (0 pauses when idle, Aurora MySQL 3.08+).
        Default: - 0.5.
    :param max_capacity_acu: Serverless v2 maximum. Default: - 4.
    :param engine_version: Default: - ``rds.AuroraMysqlEngineVersion.VER_3_08_2``.
    :param backup_retention_days: automated backups. Default: - 7.
    :param removal_policy: Default: - ``RemovalPolicy.RETAIN``.
    """

    @check_prop_types
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: SubnetsInput | None = None,
        user_name: str = "slurm",
        min_capacity_acu: float = 0.5,
        max_capacity_acu: float = 4.0,
        engine_version: rds.AuroraMysqlEngineVersion | None = None,
        backup_retention_days: int = 7,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        v = Validator(self)
        selection = as_subnet_selection(v, "vpc_subnets", vpc_subnets) or ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
            if vpc.private_subnets
            else ec2.SubnetType.PRIVATE_ISOLATED
        )
        check_capacity(v, min_capacity_acu, max_capacity_acu)
        if not is_token(user_name):
            v.require(
                bool(_USER.match(user_name)),
                "user_name",
                user_name,
                "a letter, then letters, digits or _, at most 32 characters",
            )
        v.in_range("backup_retention_days", backup_retention_days, 1, 35, "days")
        v.raise_if_any()
        self.vpc = vpc
        self.user_name = user_name
        self.secret = secretsmanager.Secret(
            self,
            "Password",
            description=f"Password of the Slurm accounting user {user_name} ({self.node.path})",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=32, exclude_characters=_EXCLUDED
            ),
            removal_policy=removal_policy,
        )
        self.cluster = self._cluster(
            selection, min_capacity_acu, max_capacity_acu, engine_version, backup_retention_days,
            removal_policy,
        )  # fmt: skip
        self.connections: ec2.Connections = self.cluster.connections
        self._acknowledge()

    def _cluster(
        self,
        selection: ec2.SubnetSelection,
        min_acu: float,
        max_acu: float,
        engine_version: rds.AuroraMysqlEngineVersion | None,
        retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> rds.DatabaseCluster:
        return rds.DatabaseCluster(
            self,
            "Cluster",
            engine=rds.DatabaseClusterEngine.aurora_mysql(
                version=engine_version or rds.AuroraMysqlEngineVersion.VER_3_08_2
            ),
            writer=rds.ClusterInstance.serverless_v2("Writer"),
            serverless_v2_min_capacity=min_acu,
            serverless_v2_max_capacity=max_acu,
            credentials=rds.Credentials.from_password(self.user_name, self.secret.secret_value),
            vpc=self.vpc,
            vpc_subnets=selection,
            storage_encrypted=True,
            deletion_protection=removal_policy != cdk.RemovalPolicy.DESTROY,
            backup=rds.BackupProps(retention=cdk.Duration.days(retention_days)),
            cloudwatch_logs_exports=["error", "slowquery"],
            removal_policy=removal_policy,
        )

    def _acknowledge(self) -> None:
        reasons = {
            "AwsSolutions-SMG4": "slurmdbd reads this password once when the head node is "
            "configured (ParallelCluster SlurmSettings.Database.PasswordSecretArn); a rotation "
            "would change the database password under a running slurmdbd. Rotate by updating "
            "the secret and the cluster together.",
        }
        for rule, reason in reasons.items():
            cdk.Validations.of(self.secret).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))
        cluster_reasons = {
            "AwsSolutions-RDS6": "slurmdbd authenticates with a MySQL user and password only "
            "(slurmdbd.conf StoragePass); it cannot use IAM database authentication.",
            "AwsSolutions-RDS11": "slurmdbd's MySQL port; the security group admits only the "
            "head node of the clusters that use the database, in private subnets.",
            "AwsSolutions-RDS14": "The accounting history is recovered with point-in-time "
            "restore from the automated backups, and kept by deletion protection and RETAIN; "
            "an in-place rewind of the whole cluster (Backtrack) is not needed for it.",
        }
        for rule, reason in cluster_reasons.items():
            cdk.Validations.of(self.cluster).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))

    @property
    def uri(self) -> str:
        """``host:port`` (ParallelCluster ``Database.Uri``: no scheme)."""
        endpoint = self.cluster.cluster_endpoint
        return f"{endpoint.hostname}:{cdk.Token.as_string(endpoint.port)}"

    @property
    def password_secret_arn(self) -> str:
        return self.secret.secret_arn

    def allow_from(self, peer: ec2.IConnectable) -> None:
        """Open the MySQL port to ``peer`` (a cluster's head node does this itself)."""
        self.cluster.connections.allow_default_port_from(peer, "slurmdbd")


def check_capacity(v: Validator, min_acu: float, max_acu: float) -> None:
    for prop, value, low in (
        ("min_capacity_acu", min_acu, MIN_ACU),
        ("max_capacity_acu", max_acu, 1.0),
    ):
        v.require(
            low <= value <= MAX_ACU and (value * 2).is_integer(),
            prop,
            value,
            f"{low:g} to {MAX_ACU:g} ACUs in steps of 0.5",
        )
    v.require(
        min_acu <= max_acu, "min_capacity_acu", min_acu, f"at most max_capacity_acu ({max_acu:g})"
    )
