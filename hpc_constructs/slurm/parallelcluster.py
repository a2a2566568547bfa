"""``ParallelCluster``: an AWS ParallelCluster Slurm cluster deployed by ``cdk deploy`` through
ParallelCluster's own CloudFormation custom resource, configured from typed props.

The props are checked by the pure rules of :mod:`hpc_constructs.slurm._pc_plan` (the same
instance, capacity, placement and subnet rules as ``EfaComputeFleet``), which build a frozen
``ClusterPlan``; :mod:`hpc_constructs.slurm._pc_render` renders it as the
``ClusterConfiguration``, also available as YAML for the ``pcluster`` CLI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from hpc_constructs.catalog import InstanceCatalog
from hpc_constructs.compute import (
    check_offerings,
    check_private_subnets,
    check_single_subnet,
    lookup_specs,
    select_subnets,
)
from hpc_constructs.errors import Validator, check_prop_types, nag_text, warn
from hpc_constructs.image.construct import image_facts_of
from hpc_constructs.image.plan import image_architecture_rule
from hpc_constructs.nodes import (
    FileSystemInput,
    FileSystemsInput,
    NodeLauncher,
    SharedFileSystem,
    SubnetsInput,
    UserDataInput,
    allow_file_system_clients,
    as_subnet_selection,
    check_mount_points,
    lazy_any,
    mount_dependables,
    node_launcher_path,
    resolve_added_file_system,
    resolve_file_systems,
    user_data_commands,
    warn_launcher,
)
from hpc_constructs.slurm._checks import check_role_path
from hpc_constructs.slurm._pc_plan import (
    DEFAULT_PARALLELCLUSTER_VERSION,
    ClusterPlan,
    ParallelClusterMonitoring,
    QueuePlan,
    SlurmComputeResource,
    SlurmQueue,
    check_cluster_name,
    check_name,
    check_storage,
    plan_cluster,
)
from hpc_constructs.slurm._pc_platform import (
    CustomAction,
    CustomActions,
    DirectoryService,
    LoginNodePool,
    check_cluster_settings,
    check_custom_actions,
    check_directory_service,
    check_login_pools,
    login_pool_config,
    write_script,
)
from hpc_constructs.slurm._pc_render import NodeSettings, cluster_config, placeholders, to_yaml
from hpc_constructs.slurm.accounting import SlurmAccountingDatabase

__all__ = [
    "DEFAULT_PARALLELCLUSTER_VERSION",
    "PARALLELCLUSTER_ROLE_PATH",
    "CustomAction",
    "CustomActions",
    "DirectoryService",
    "LoginNodePool",
    "ParallelCluster",
    "ParallelClusterMonitoring",
    "SlurmComputeResource",
    "SlurmQueue",
]

#: Provider stack published by ParallelCluster per region and version (ParallelCluster User
#: Guide, "AWS CloudFormation custom resource" / "Provider stack hosted by AWS ParallelCluster").
PROVIDER_TEMPLATE_URL = (
    "https://{region}-aws-parallelcluster.s3.{region}.{url_suffix}/parallelcluster/{version}"
    "/templates/custom_resource/cluster.yaml"
)
#: The provider's Lambda role may pass only roles under this path to EC2
#: (``cloudformation/policies/parallelcluster-policies.yaml``, ``IamPassRole``).
PARALLELCLUSTER_ROLE_PATH = "/parallelcluster/"
_ROLE_RULE = (
    "the provider stack's Lambda role may only pass roles under /parallelcluster/ "
    "(ParallelCluster policies, IamPassRole on role/parallelcluster/*)"
)


class ParallelCluster(NodeLauncher):
    """An AWS ParallelCluster Slurm cluster, created and updated by CloudFormation.

    Two resources do the work, as ParallelCluster documents: the provider stack
    (``AWS::CloudFormation::Stack`` from the template ParallelCluster hosts for ``version`` in
    the stack's region) and a ``Custom::PclusterCluster`` whose ``ClusterConfiguration`` is
    :attr:`cluster_configuration`. Creating, updating and deleting the stack creates, updates
    and deletes the cluster (ParallelCluster then runs its own nested stack).

    A :class:`~hpc_constructs.nodes.NodeLauncher` for the compute nodes: :attr:`role` is every
    queue's ``Iam.InstanceRole`` (``bucket.grant_read(cluster)``) and :attr:`connections` is
    :attr:`compute_security_group`, added to every queue (``AdditionalSecurityGroups``:
    ParallelCluster keeps its own compute group with the head-node and EFA rules).
    :attr:`security_group` is added to the head node and every queue; the file systems in
    ``file_systems`` are opened to it on their ports only.

    :param vpc: the VPC of the subnets and file systems.
    :param head_node_vpc_subnets: the one subnet of the head node (a private subnet with a NAT
        route or endpoints; connect with Session Manager): an ``ec2.ISubnet``, a list of one,
        or an ``ec2.SubnetSelection`` selecting one.
    :param vpc_subnets: where queues launch nodes, e.g. ``NetworkFabric.compute_subnets``.
    :param queues: 1 to 50 :class:`SlurmQueue`.
    :param file_systems: FSx for Lustre and EFS file systems (a list, or a mapping of mount
        point to file system; ``SharedFileSystem`` for a name). Default: - none.
    :param version: ParallelCluster version of the provider stack (3.6.0 or later).
        Default: - ``DEFAULT_PARALLELCLUSTER_VERSION`` (3.16.1).
    :param head_node_instance_type: Default: - ``c7i.2xlarge`` for x86_64 clusters,
        ``c7g.2xlarge`` for arm64 (ParallelCluster requires head and compute nodes to share
        an architecture).
    :param os: Default: - ``alinux2023``.
    :param key_pair: SSH key of the head node. Default: - none (Session Manager).
    :param ssm_access: attach ``AmazonSSMManagedInstanceCore`` to the head node.
        Default: - ``True``.
    :param cluster_name: ``ClusterName`` (cannot change after creation, must differ from the
        stack name). Default: - a name derived from the construct path, unique per stack.
    :param removal_policy: what deleting the stack (or this construct) does to the cluster.
        Default: - ``DESTROY`` (ParallelCluster's default, ``DeletionPolicy: Delete``).
    :param queue_update_strategy: ``SlurmSettings.QueueUpdateStrategy``: ``"DRAIN"`` or
        ``"TERMINATE"``. Default: - ``"DRAIN"``.
    :param role: the compute nodes' role (every queue's ``Iam.InstanceRole``); it must be
        under the path ``/parallelcluster/`` (checked when known). The compute-node policy
        ParallelCluster documents is attached to it. Default: - a new role with that policy.
    :param security_group: the compute nodes' extra security group (:attr:`connections`).
        Default: - a new group without rules.
    :param user_data: commands every compute node runs once configured (an
        ``OnNodeConfigured`` custom action from an S3 asset). Default: - none.
    :param head_node_custom_actions: the head node's :class:`CustomActions` (start,
        configured, updated); ``s3://`` scripts are readable by the head node only through a
        managed policy on those objects. Default: - none.
    :param custom_slurm_settings: ``SlurmSettings.CustomSlurmSettings``: a list of one-key
        mappings for slurm.conf (``{"PriorityWeightFairshare": 10000}``) or several-key ones
        for custom nodes and partitions; the settings ParallelCluster manages are refused.
        Default: - none.
    :param login_nodes: :class:`LoginNodePool` s (at most 10), on :attr:`security_group` (the
        shared storage) and :attr:`login_security_group` (no rules: open what users need with
        ``cluster.login_connections``). Default: - none.
    :param directory_service: AD/LDAP users through SSSD (:class:`DirectoryService`; the
        bind password only as a secret ARN). Default: - none (local users).
    :param accounting_database: a :class:`SlurmAccountingDatabase` in ``vpc`` for Slurm
        accounting (``SlurmSettings.Database``); its port is opened to the head node only
        (:attr:`head_node_security_group`). Default: - no accounting.
    :param monitoring: ParallelCluster's ``Monitoring`` section
        (:class:`ParallelClusterMonitoring`: logs, retention, deletion policy, rotation,
        dashboard, alarms, detailed monitoring). Default: - logs kept 180 days and retained
        after the cluster, rotation, dashboard and alarms on, no detailed monitoring.
    :param custom_ami: ``Image.CustomAmi`` of every node: an AMI built from a ParallelCluster
        AMI (its cookbook configures the nodes), e.g. ``HpcImage(base=<the ParallelCluster AMI
        of this version, as an ec2.IMachineImage>).machine_image``. Queues may set their own
        (``SlurmQueue(custom_ami=)``). Default: - ParallelCluster's official AMI for ``os``.
    """

    @check_prop_types
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        head_node_vpc_subnets: SubnetsInput,
        vpc_subnets: SubnetsInput,
        queues: Sequence[SlurmQueue],
        file_systems: FileSystemsInput | None = None,
        version: str = DEFAULT_PARALLELCLUSTER_VERSION,
        head_node_instance_type: str | None = None,
        os: str = "alinux2023",
        key_pair: ec2.IKeyPair | None = None,
        ssm_access: bool = True,
        cluster_name: str | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
        queue_update_strategy: str = "DRAIN",
        role: iam.IRole | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        user_data: UserDataInput | None = None,
        head_node_custom_actions: CustomActions | None = None,
        custom_slurm_settings: Sequence[Mapping[str, Any]] | None = None,
        login_nodes: Sequence[LoginNodePool] | None = None,
        directory_service: DirectoryService | None = None,
        accounting_database: SlurmAccountingDatabase | None = None,
        monitoring: ParallelClusterMonitoring | None = None,
        custom_ami: ec2.IMachineImage | None = None,
    ) -> None:
        v = Validator(node_launcher_path(scope, id))
        check_custom_amis(v, custom_ami, queues)
        plan = plan_cluster(
            v, queues=queues, version=version, os=os, monitoring=monitoring,
            head_node_instance_type=head_node_instance_type,
            queue_update_strategy=queue_update_strategy,
        )  # fmt: skip
        check_cluster_name(v, cluster_name, cdk.Stack.of(scope).stack_name)
        items = resolve_file_systems(v, "file_systems", file_systems)
        check_mount_points(v, "file_systems", items)
        check_storage(v, "file_systems", items)
        check_role_path(
            v, "role", role, path=PARALLELCLUSTER_ROLE_PATH, name_prefix=None, why=_ROLE_RULE
        )
        commands = user_data_commands(v, "user_data", user_data)
        head_subnet = _head_subnet(v, scope, vpc, head_node_vpc_subnets, plan)
        queue_subnets = _queue_subnets(v, scope, vpc, vpc_subnets, queues, plan)
        platform = _Platform(
            head_actions=head_node_custom_actions,
            settings=tuple(custom_slurm_settings or ()),
            pools=tuple(login_nodes or ()),
            directory=directory_service,
            database=accounting_database,
        )
        pool_subnets = platform.check(v, scope, vpc, queues, plan, head_subnet)
        v.raise_if_any()
        assert plan is not None
        assert head_subnet is not None
        super().__init__(scope, id)
        self._remember_plan(plan)
        self.removal_policy = removal_policy
        self.cluster_name: str = cluster_name or cdk.Names.unique_resource_name(
            self, max_length=60, separator="-"
        )
        self._settings = {
            "head_subnet_id": head_subnet.subnet_id,
            "queue_subnet_ids": {
                q: [s.subnet_id for s in subs] for q, subs in queue_subnets.items()
            },
            "key_name": key_pair.key_pair_name if key_pair is not None else None,
            "ssm_access": ssm_access,
            **_ami_ids(self, custom_ami, queues),
        }
        self._render_nodes(vpc, role, security_group)
        self._render_platform(vpc, platform, pool_subnets)
        self._render_cluster(removal_policy)
        self._add_file_systems(items)
        if commands:
            self.add_user_data(*commands)
        _warn(self, plan, platform)

    def _remember_plan(self, plan: ClusterPlan) -> None:
        self.plan = plan
        self.version = plan.version
        self.os = plan.os
        self.architecture: str = plan.architecture
        self.head_node_instance_type: str = plan.head_node_instance_type
        self.queue_update_strategy = plan.queue_update_strategy

    # --- rendering ----------------------------------------------------------------------

    def _render_nodes(
        self, vpc: ec2.IVpc, role: iam.IRole | None, security_group: ec2.ISecurityGroup | None
    ) -> None:
        self.file_systems: list[SharedFileSystem] = []
        self._scripts: list[s3_assets.Asset] = []
        self._script_policy: iam.Policy | None = None
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"Shared-storage clients of {self.node.path} (head and compute nodes)",
            allow_all_outbound=False,
        )
        self.compute_security_group = security_group or ec2.SecurityGroup(
            self,
            "ComputeSecurityGroup",
            vpc=vpc,
            description=f"Compute nodes of {self.node.path}: rules added through the cluster "
            "connections (the ParallelCluster compute group carries the rest)",
            allow_all_outbound=False,
        )
        self._node_connections = self.compute_security_group.connections
        self._node_role = role or iam.Role(
            self,
            "ComputeRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            path=PARALLELCLUSTER_ROLE_PATH,
            description=f"Compute nodes of {self.node.path} (every queue's Iam.InstanceRole)",
        )
        attach_compute_node_policy(self, self._node_role, self.cluster_name)

    def _render_cluster(self, removal_policy: cdk.RemovalPolicy) -> None:
        stack = cdk.Stack.of(self)
        self.provider_stack = cdk.CfnStack(
            self,
            "Provider",
            template_url=PROVIDER_TEMPLATE_URL.format(
                region=stack.region, url_suffix=stack.url_suffix, version=self.version
            ),
        )
        self.cluster = cdk.CustomResource(
            self,
            "Cluster",
            service_token=self.provider_stack.get_att("Outputs.ServiceToken").to_string(),
            resource_type="Custom::PclusterCluster",
            properties={
                "ClusterName": self.cluster_name,
                # Rendered at synth, so add_file_system / add_user_data after construction count.
                "ClusterConfiguration": lazy_any(lambda: self.cluster_configuration),
            },
            removal_policy=removal_policy,
        )

    def _render_platform(
        self, vpc: ec2.IVpc, platform: _Platform, pool_subnets: dict[str, ec2.ISubnet]
    ) -> None:
        """Login security group, head-node group for the database, script read grants."""
        self.platform = platform
        self._pool_subnets = pool_subnets
        self._vpc_cidr = vpc.vpc_cidr_block
        self.login_security_group: ec2.SecurityGroup | None = None
        if platform.pools:
            self.login_security_group = ec2.SecurityGroup(
                self,
                "LoginSecurityGroup",
                vpc=vpc,
                description=f"Login nodes of {self.node.path}: no rules until opened through "
                "login_connections (ParallelCluster adds its own login group for SSH)",
                allow_all_outbound=False,
            )
        self.head_node_security_group: ec2.SecurityGroup | None = None
        if platform.database is not None:
            self.head_node_security_group = ec2.SecurityGroup(
                self,
                "HeadNodeSecurityGroup",
                vpc=vpc,
                description=f"Head node of {self.node.path} (slurmdbd): reaches the Slurm "
                "accounting database",
                allow_all_outbound=False,
            )
            platform.database.allow_from(self.head_node_security_group)
        head_login = [*platform.head_action_list, *platform.pool_action_list]
        self._script_read_policy = _script_read_policy(self, head_login)
        for action in [a for q in self.plan.queues if q.custom_actions
                       for a in q.custom_actions.all()]:  # fmt: skip
            self._grant_script(action)

    def _grant_script(self, action: CustomAction) -> None:
        obj = action.s3_object
        if obj is None:
            return
        if self._script_policy is None:
            self._script_policy = iam.Policy(self, "ScriptReadPolicy")
            self._script_policy.attach_to_role(self._node_role)
        self._script_policy.add_statements(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[_object_arn(self, *obj)])
        )

    @property
    def login_connections(self) -> ec2.Connections:
        """The login nodes' extra group: ``cluster.login_connections.allow_from(peer, port)``."""
        if self.login_security_group is None:
            raise ValueError(f"{self.node.path} has no login_nodes")
        return self.login_security_group.connections

    def _platform_settings(self) -> dict[str, Any]:
        platform = self.platform
        policies = (
            (self._script_read_policy.managed_policy_arn,) if self._script_read_policy else ()
        )
        database = platform.database
        login_groups = [self.security_group.security_group_id]
        if self.login_security_group is not None:
            login_groups.append(self.login_security_group.security_group_id)
        return {
            "head_custom_actions": platform.head_actions,
            "head_policies": policies,
            "custom_slurm_settings": platform.settings,
            "database": None
            if database is None
            else {
                "Uri": database.uri,
                "UserName": database.user_name,
                "PasswordSecretArn": database.password_secret_arn,
            },
            "directory_service": platform.directory,
            "login_pools": tuple(
                login_pool_config(
                    pool,
                    subnet_id=self._pool_subnets[pool.name].subnet_id,
                    security_groups=login_groups,
                    allowed_cidr=self._vpc_cidr,
                    policies=[
                        *([f"arn:{cdk.Stack.of(self).partition}:iam::aws:policy/"
                           "AmazonSSMManagedInstanceCore"] if self._settings["ssm_access"] else []),
                        *policies,
                    ],
                )
                for pool in platform.pools
            ),
        }  # fmt: skip

    @property
    def cluster_configuration(self) -> dict[str, Any]:
        """The ``ClusterConfiguration`` (CDK tokens for deploy-time ids), rendered from the
        plan and the file systems and user data added so far."""
        stack = cdk.Stack.of(self)
        nodes = NodeSettings(
            region=stack.region,
            partition=stack.partition,
            head_security_groups=(
                self.security_group.security_group_id,
                *(
                    []
                    if self.head_node_security_group is None
                    else [self.head_node_security_group.security_group_id]
                ),
            ),
            queue_security_groups=(
                self.security_group.security_group_id,
                self.compute_security_group.security_group_id,
            ),
            compute_role_arn=self._node_role.role_arn,
            configured_scripts=tuple(CustomAction.from_asset(a) for a in self._scripts),
            **self._settings,
            **self._platform_settings(),
        )
        return cluster_config(self.plan, nodes, self.file_systems)

    def _add_file_systems(self, items: Sequence[SharedFileSystem]) -> None:
        for item in items:
            allow_file_system_clients(item, self.security_group)
            # File systems must accept the nodes before ParallelCluster mounts them.
            for part in mount_dependables(item):
                self.cluster.node.add_dependency(part)
        self.file_systems += items

    # --- public API ---------------------------------------------------------------------

    @check_prop_types
    def add_file_system(
        self, file_system: FileSystemInput, *, mount_point: str | None = None
    ) -> SharedFileSystem:
        """Add a ``SharedStorage`` entry (FSx for Lustre or EFS) mounted on the head and
        compute nodes, open its ports to :attr:`security_group`, return the resolved item."""
        v = Validator(self)
        item = resolve_added_file_system(v, file_system, mount_point, self.file_systems)
        if item is not None:
            check_storage(v, "file_system", [*self.file_systems, item])
        v.raise_if_any()
        assert item is not None
        self._add_file_systems([item])
        return item

    @check_prop_types
    def add_user_data(self, *commands: str) -> None:
        """Run shell commands on every compute node once ParallelCluster has configured it
        (``CustomActions.OnNodeConfigured``): each call is one script (``set -eo pipefail``)
        in an S3 asset, run in order; the compute role may read exactly those objects."""
        v = Validator(self)
        lines = user_data_commands(v, "commands", list(commands))
        v.raise_if_any()
        if not lines:
            return
        asset = s3_assets.Asset(
            self, f"OnNodeConfigured{len(self._scripts) + 1}", path=write_script(lines)
        )
        if self._script_policy is None:
            self._script_policy = iam.Policy(self, "ScriptReadPolicy")
            self._script_policy.attach_to_role(self._node_role)
        self._script_policy.add_statements(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[asset.bucket.arn_for_objects(asset.s3_object_key)],
            )
        )
        self._scripts.append(asset)

    def resolved_configuration(self) -> dict[str, Any]:
        """:attr:`cluster_configuration` with tokens resolved; values only known at deploy
        time (subnet, security group and file system ids) become ``${LogicalId}`` or
        ``${LogicalId.Attribute}`` placeholders naming the template resource."""
        resolved = cdk.Stack.of(self).resolve(self.cluster_configuration)
        return placeholders(resolved)  # type: ignore[no-any-return]

    def to_yaml(self) -> str:
        """The configuration as a ParallelCluster YAML file for ``pcluster create-cluster``.

        Deploy-time values are ``${...}`` placeholders (see :meth:`resolved_configuration`);
        a header lists them. The stack is the source of truth: a cluster created from this
        file is a second, independent cluster.
        """
        config = self.resolved_configuration()
        found = sorted(set(re.findall(r"\$\{([^}]+)\}", json.dumps(config))))
        header = [
            f"# AWS ParallelCluster {self.version} configuration generated by hpc-constructs "
            f"from {self.node.path}.",
        ]
        if found:
            header.append("# Replace these placeholders with the deployed values:")
            header += [f"#   ${{{name}}}" for name in found]
        return "\n".join(header) + "\n" + to_yaml(config, 0) + "\n"


# --- subnets, warnings, scripts and the compute role ------------------------------------------


def _ami_ids(
    scope: Construct, custom_ami: ec2.IMachineImage | None, queues: Sequence[SlurmQueue]
) -> dict[str, Any]:
    """``Image.CustomAmi`` of the cluster and of the queues that set one (AMI ids)."""
    return {
        "custom_ami": custom_ami.get_image(scope).image_id if custom_ami else None,
        "queue_amis": {
            q.name: q.custom_ami.get_image(scope).image_id for q in queues if q.custom_ami
        },
    }


def check_custom_amis(
    v: Validator, custom_ami: ec2.IMachineImage | None, queues: Sequence[SlurmQueue]
) -> None:
    """An ``HpcImage`` image for ParallelCluster must start from a ParallelCluster AMI (given
    as its ``base``: the library's own bases lack ParallelCluster's cookbook) and suit the
    queues' instance architecture."""
    # The cluster's image serves the queues without their own.
    images = [("custom_ami", custom_ami, [q for q in queues if q.custom_ami is None])]
    images += [(f"queues[{q.name}].custom_ami", q.custom_ami, [q]) for q in queues]
    for prop, image, served in images:
        facts = image_facts_of(image)
        if facts is None:
            continue
        v.require(
            dict(facts.versions).get("base") == "custom",
            prop,
            facts.name,
            "an HpcImage whose base is a ParallelCluster AMI (base=ec2.IMachineImage of the "
            "ParallelCluster AMI for this version): ParallelCluster configures nodes with the "
            "cookbook on its AMIs",
        )
        for queue in served:
            for resource in queue.compute_resources:
                for name in resource.instance_types:
                    spec = InstanceCatalog.find(name)
                    if spec is not None:
                        image_architecture_rule(v, prop, facts, spec.architecture, spec.is_gpu)


def _head_subnet(
    v: Validator, scope: Construct, vpc: ec2.IVpc, value: object, plan: ClusterPlan | None
) -> ec2.ISubnet | None:
    """The head node's one subnet, in an AZ offering its type."""
    selection = as_subnet_selection(v, "head_node_vpc_subnets", value)
    if selection is None:
        return None
    selected = select_subnets(vpc, selection)
    check_single_subnet(
        v, "head_node_vpc_subnets", selected, "ParallelCluster places the head node in one subnet"
    )
    subnets = list(selected.subnets)
    if plan is not None:
        check_offerings(
            v, scope, "head_node_instance_type", plan.head_specs, subnets, "head_node_vpc_subnets"
        )
    return subnets[0] if subnets else None


def _queue_subnets(
    v: Validator,
    scope: Construct,
    vpc: ec2.IVpc,
    default: object,
    queues: Sequence[SlurmQueue],
    plan: ClusterPlan | None,
) -> dict[str, list[ec2.ISubnet]]:
    """Each queue's subnets: one for EFA or a placement group, private for several network
    interfaces, in AZs offering every type."""
    fallback = as_subnet_selection(v, "vpc_subnets", default)
    plans: dict[str, QueuePlan] = {q.name: q for q in plan.queues} if plan is not None else {}
    out: dict[str, list[ec2.ISubnet]] = {}
    for queue in queues:
        qp = f"queues[{queue.name}].vpc_subnets"
        selection = as_subnet_selection(v, qp, queue.vpc_subnets) or fallback
        queue_plan = plans.get(queue.name)
        if selection is None or queue_plan is None:
            continue
        selected = select_subnets(vpc, selection)
        out[queue.name] = list(selected.subnets)
        if queue_plan.needs_one_subnet:
            check_single_subnet(
                v,
                qp,
                selected,
                "EFA traffic cannot cross subnets or AZs and a cluster placement group "
                "lives in one AZ",
            )
        multi = [t for r in queue_plan.resources for t in r.multi_interface_types]
        check_private_subnets(v, qp, selected, multi)
        for res in queue_plan.resources:
            check_offerings(
                v,
                scope,
                f"queues[{queue.name}].compute_resources[{res.name}].instance_types",
                res.specs,
                out[queue.name],
                qp,
            )
    return out


def _warn(scope: Construct, plan: ClusterPlan, platform: _Platform) -> None:
    if platform.insecure_directory:
        warn(
            scope,
            "directoryServiceInsecure",
            "DirectoryService uses ldap:// or an LdapTlsReqCert that does not check the "
            "server certificate (never, allow, try): the bind password and users' "
            "passwords can be read or redirected on the network. Use ldaps:// with "
            "LdapTlsReqCert hard or demand.",
        )
    for queue in plan.queues:
        for res in queue.resources:
            warn_launcher(
                scope,
                efa_disabled=res.efa_disabled,
                mixed_types=len(res.specs) if res.placement.is_cluster else 0,
                reservation_without_group=res.placement.reservation_without_group,
                where=f"Compute resource {queue.name}/{res.name}: ",
            )


# --- platform: login pools, directory, accounting, custom actions ----------------------------


@dataclass(frozen=True)
class _Platform:
    """The platform props, checked together (plain values and the database construct)."""

    head_actions: CustomActions | None
    settings: tuple[Mapping[str, Any], ...]
    pools: tuple[LoginNodePool, ...]
    directory: DirectoryService | None
    database: SlurmAccountingDatabase | None
    insecure_directory: bool = False

    @property
    def head_action_list(self) -> list[CustomAction]:
        return self.head_actions.all() if self.head_actions else []

    @property
    def pool_action_list(self) -> list[CustomAction]:
        return [a for p in self.pools if p.custom_actions for a in p.custom_actions.all()]

    def check(
        self,
        v: Validator,
        scope: Construct,
        vpc: ec2.IVpc,
        queues: Sequence[SlurmQueue],
        plan: ClusterPlan | None,
        head_subnet: ec2.ISubnet | None,
    ) -> dict[str, ec2.ISubnet]:
        """Every platform rule; the login pools' subnets."""
        check_custom_actions(v, "head_node_custom_actions", self.head_actions, updated_allowed=True)
        check_cluster_settings(v, self.settings, accounting=self.database is not None)
        check_login_pools(v, self.pools, [q.name for q in queues], check_name)
        object.__setattr__(self, "insecure_directory", check_directory_service(v, self.directory))
        if self.database is not None:
            check_same_vpc(v, scope, vpc, self.database)
        return _pool_subnets(v, scope, vpc, self.pools, plan, head_subnet)


def check_same_vpc(
    v: Validator, scope: Construct, vpc: ec2.IVpc, database: SlurmAccountingDatabase
) -> None:
    stack = cdk.Stack.of(scope)
    theirs, ours = stack.resolve(database.vpc.vpc_id), stack.resolve(vpc.vpc_id)
    v.require(
        theirs == ours,
        "accounting_database",
        f"{database.node.path} (VPC {database.vpc.node.path})",
        f"a database in the cluster's VPC ({vpc.node.path}): the head node reaches it "
        "through a security group rule, which works within one VPC",
    )


def _pool_subnets(
    v: Validator,
    scope: Construct,
    vpc: ec2.IVpc,
    pools: Sequence[LoginNodePool],
    plan: ClusterPlan | None,
    head_subnet: ec2.ISubnet | None,
) -> dict[str, ec2.ISubnet]:
    """Each pool's one subnet (default: the head node's), offering its type, and its type of
    the cluster's architecture."""
    out: dict[str, ec2.ISubnet] = {}
    for pool in pools:
        if not isinstance(pool, LoginNodePool):
            continue
        lp = f"login_nodes[{pool.name}]"
        specs = lookup_specs(v, f"{lp}.instance_type", [pool.instance_type])
        if specs and plan is not None:
            v.require(
                specs[0].architecture == plan.architecture,
                f"{lp}.instance_type",
                f"{pool.instance_type} ({specs[0].architecture})",
                f"an {plan.architecture} type (login nodes use the cluster's AMI)",
            )
        selection = as_subnet_selection(v, f"{lp}.vpc_subnets", pool.vpc_subnets)
        if selection is None:
            if head_subnet is not None:
                out[pool.name] = head_subnet
            subnets = [head_subnet] if head_subnet is not None else []
        else:
            selected = select_subnets(vpc, selection)
            check_single_subnet(v, f"{lp}.vpc_subnets", selected, "a login pool has one subnet")
            subnets = list(selected.subnets)
            if subnets:
                out[pool.name] = subnets[0]
        if specs and subnets:
            check_offerings(v, scope, f"{lp}.instance_type", specs, subnets, f"{lp}.vpc_subnets")
    return out


def _object_arn(scope: Construct, bucket: str, key: str) -> str:
    return f"arn:{cdk.Stack.of(scope).partition}:s3:::{bucket}/{key}"


def _script_read_policy(
    scope: Construct, actions: Sequence[CustomAction]
) -> iam.ManagedPolicy | None:
    """Read on exactly the head node's and login pools' ``s3://`` scripts, as a managed policy
    (ParallelCluster takes ``AdditionalIamPolicies`` by ARN)."""
    objects = sorted({o for a in actions if (o := a.s3_object) is not None}, key=str)
    if not objects:
        return None
    return iam.ManagedPolicy(
        scope,
        "CustomActionScripts",
        description="Read the head node's and login nodes' custom-action scripts",
        statements=[
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[_object_arn(scope, *o) for o in objects]
            )
        ],
    )


def attach_compute_node_policy(scope: Construct, role: iam.IRole, cluster_name: str) -> None:
    """What a ParallelCluster compute node's own role carries (aws-parallelcluster 3.16.1,
    ``ComputeNodeIamResources._build_policy`` and ``SlurmConstruct``'s compute policy; plus
    ``CloudWatchAgentServerPolicy`` because CloudWatch logs are on by default)."""
    stack = cdk.Stack.of(scope)

    def arn(service: str, resource: str, name: str) -> str:
        return stack.format_arn(service=service, resource=resource, resource_name=name)

    bucket_objects = f"arn:{stack.partition}:s3:::{stack.region}-aws-parallelcluster/*"
    cluster_stack = arn("cloudformation", "stack", f"{cluster_name}/*")
    slurm_table = arn("dynamodb", "table", f"parallelcluster-slurm-{cluster_name}")
    policy = iam.Policy(
        scope,
        "ComputePolicy",
        statements=[
            iam.PolicyStatement(actions=["ec2:DescribeInstanceAttribute"], resources=["*"]),
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket_objects]),
            iam.PolicyStatement(
                actions=["cloudformation:DescribeStackResource"], resources=[cluster_stack]
            ),
            iam.PolicyStatement(
                actions=["dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem"],
                resources=[arn("dynamodb", "table", f"parallelcluster-{cluster_name}")],
            ),
            iam.PolicyStatement(
                actions=["dynamodb:Query"], resources=[slurm_table, f"{slurm_table}/index/*"]
            ),
        ],
    )
    policy.attach_to_role(role)
    reasons = {
        "*": "ec2:DescribeInstanceAttribute has no resource-level permissions",
        bucket_objects: "reads ParallelCluster's regional artifact bucket, as ParallelCluster's "
        "own compute role does",
        cluster_stack: "the cluster's own ParallelCluster stack; its id suffix is unknown "
        "until the stack exists",
        f"{slurm_table}/index/*": "queries the indexes of the cluster's own Slurm table",
    }
    for resource, reason in reasons.items():
        cdk.Validations.of(policy).acknowledge(
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{nag_text(stack, resource)}]",
                reason=f"ParallelCluster's compute-node policy (aws-parallelcluster "
                f"ComputeNodeIamResources): {reason}.",
            )
        )
    role.add_managed_policy(
        iam.ManagedPolicy.from_aws_managed_policy_name("CloudWatchAgentServerPolicy")
    )
    if isinstance(role, Construct):
        cdk.Validations.of(role).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "CloudWatchAgentServerPolicy]",
                reason="AWS's managed policy for the CloudWatch agent, which ParallelCluster "
                "runs on every node to ship its logs (Monitoring.Logs.CloudWatch is on by "
                "default and ParallelCluster attaches this policy to the roles it creates).",
            )
        )
