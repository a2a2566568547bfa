"""The HPC policy rules as pure functions on CloudFormation-shaped resources (plain dicts).

Each rule takes a resource's logical id and the resources of its template (logical id ->
``{"Type", "Properties", "DeletionPolicy", ...}``) and returns the problems found (empty:
compliant) or ``None`` (the rule does not apply, or a value it needs is only known at deploy
time: a ``Ref`` to a parameter, an imported id). ``HpcChecks`` (``policy/pack.py``) feeds
them the synthesized template; the facts come from ``hpc_constructs.limits`` (shared with the
cfn-lint rule pack) and ``hpc_constructs.catalog``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hpc_constructs import limits
from hpc_constructs.catalog import InstanceCatalog, plan_efa_interfaces

Resource = Mapping[str, Any]
Resources = Mapping[str, Resource]
Check = Callable[[str, Resources], "list[str] | None"]

LAUNCH_TEMPLATE = "AWS::EC2::LaunchTemplate"
INSTANCE = "AWS::EC2::Instance"
ASG = "AWS::AutoScaling::AutoScalingGroup"
BATCH_CE = "AWS::Batch::ComputeEnvironment"
PCS_NODE_GROUP = "AWS::PCS::ComputeNodeGroup"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
LUSTRE = "AWS::FSx::FileSystem"


# --- reading a template -------------------------------------------------------------------


def props(resource: Resource | None) -> Mapping[str, Any]:
    found = (resource or {}).get("Properties") or {}
    return found if isinstance(found, Mapping) else {}


def ref_target(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at, else None."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    if isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    att = value.get("Fn::GetAtt")
    if isinstance(att, list) and att and isinstance(att[0], str):
        return att[0]
    if isinstance(att, str):
        return att.split(".", 1)[0]
    return None


def _target(value: Any, resources: Resources, kind: str) -> str | None:
    lid = ref_target(value)
    return lid if lid is not None and resources.get(lid, {}).get("Type") == kind else None


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


_MIXED_TEMPLATE_ID = (
    "MixedInstancesPolicy",
    "LaunchTemplate",
    "LaunchTemplateSpecification",
    "LaunchTemplateId",
)


def launch_template_id(lid: str, resources: Resources) -> str | None:
    """The template's launch template a launcher (instance, ASG, Batch CE, PCS group) uses."""
    resource = resources.get(lid, {})
    p = props(resource)
    candidates = {
        INSTANCE: _get(p, "LaunchTemplate", "LaunchTemplateId"),
        ASG: _get(p, "LaunchTemplate", "LaunchTemplateId")
        or (
            _get(p, "MixedInstancesPolicy", "LaunchTemplate", "LaunchTemplateSpecification")
            and _get(p, *_MIXED_TEMPLATE_ID)
        ),
        BATCH_CE: _get(p, "ComputeResources", "LaunchTemplate", "LaunchTemplateId"),
        PCS_NODE_GROUP: _get(p, "CustomLaunchTemplate", "TemplateId"),
    }
    return _target(candidates.get(str(resource.get("Type"))), resources, LAUNCH_TEMPLATE)


def launchers_of(template_id: str, resources: Resources) -> list[str]:
    """Launchers in the template that use launch template ``template_id``."""
    return [lid for lid in resources if launch_template_id(lid, resources) == template_id]


def instance_data(lid: str, resources: Resources) -> Mapping[str, Any] | None:
    """What a launch template or an instance launches with (LaunchTemplateData or the
    instance's Properties); None for other types."""
    resource = resources.get(lid, {})
    if resource.get("Type") == LAUNCH_TEMPLATE:
        data = props(resource).get("LaunchTemplateData")
        return data if isinstance(data, Mapping) else {}
    if resource.get("Type") == INSTANCE:
        return props(resource)
    return None


def efa_interfaces(lid: str, resources: Resources) -> list[limits.InterfaceView] | None:
    """The network interfaces of a launch template or instance when one of them is EFA."""
    data = instance_data(lid, resources)
    views = limits.interface_views(data.get("NetworkInterfaces")) if data is not None else None
    return views if views and limits.efa_cards(views) else None


def launch_instance_types(lid: str, resources: Resources) -> list[str]:
    """Literal instance types a launch template or instance launches: its own InstanceType,
    else those of the launchers using it (Batch InstanceTypes, PCS InstanceConfigs, ASG
    overrides)."""
    data = instance_data(lid, resources) or {}
    own = limits.literal_str(data.get("InstanceType"))
    if own:
        return [own]
    found: list[Any] = []
    for launcher in launchers_of(lid, resources):
        p = props(resources[launcher])
        found += _get(p, "ComputeResources", "InstanceTypes") or []
        found += [
            c.get("InstanceType") for c in p.get("InstanceConfigs") or [] if isinstance(c, Mapping)
        ]
        overrides = _get(p, "MixedInstancesPolicy", "LaunchTemplate", "Overrides") or []
        found += [o.get("InstanceType") for o in overrides if isinstance(o, Mapping)]
    return sorted({t for t in found if isinstance(t, str)})


def _placement_group(lid: str, resources: Resources) -> Any:
    p = props(resources.get(lid))
    kind = resources.get(lid, {}).get("Type")
    if kind == LAUNCH_TEMPLATE:
        return _get(p, "LaunchTemplateData", "Placement", "GroupName")
    if kind == INSTANCE:
        return p.get("PlacementGroupName")
    if kind == ASG:
        return p.get("PlacementGroup")
    if kind == BATCH_CE:
        return _get(p, "ComputeResources", "PlacementGroup")
    return None


# --- security-group rules -----------------------------------------------------------------


@dataclass(frozen=True)
class SgRule:
    """One inbound or outbound rule of a security group, as the template writes it."""

    protocol: str
    from_port: int | None
    to_port: int | None
    peer_group: str | None  # logical id of the group on the other side, when in the template
    cidr: str | None


def _sg_rule(entry: Mapping[str, Any], peer_key: str, resources: Resources) -> SgRule:
    return SgRule(
        protocol=str(entry.get("IpProtocol", "")).lower(),
        from_port=limits.literal_int(entry.get("FromPort")),
        to_port=limits.literal_int(entry.get("ToPort")),
        peer_group=_target(entry.get(peer_key), resources, SECURITY_GROUP),
        cidr=limits.literal_str(entry.get("CidrIp")),
    )


def security_group_rules(group: str, resources: Resources, direction: str) -> list[SgRule]:
    """Inbound (``"Ingress"``) or outbound (``"Egress"``) rules of a template security group:
    inline ones and the separate ``AWS::EC2::SecurityGroupIngress/Egress`` resources."""
    peer = "SourceSecurityGroupId" if direction == "Ingress" else "DestinationSecurityGroupId"
    entries = list(props(resources.get(group)).get(f"SecurityGroup{direction}") or [])
    rules = [_sg_rule(e, peer, resources) for e in entries if isinstance(e, Mapping)]
    for resource in resources.values():
        if resource.get("Type") != f"AWS::EC2::SecurityGroup{direction}":
            continue
        p = props(resource)
        if _target(p.get("GroupId"), resources, SECURITY_GROUP) == group:
            rules.append(_sg_rule(p, peer, resources))
    return rules


def _interface_groups(lid: str, resources: Resources) -> tuple[list[str], bool]:
    """Template security groups on the EFA interfaces, and whether any group is unknown
    (imported id or computed)."""
    data = instance_data(lid, resources) or {}
    values: list[Any] = []
    for itf in data.get("NetworkInterfaces") or []:
        if isinstance(itf, Mapping) and itf.get("InterfaceType") in ("efa", "efa-only"):
            values += itf.get("Groups") or []
    if not values:
        values = list(data.get("SecurityGroupIds") or [])
    groups = [_target(v, resources, SECURITY_GROUP) for v in values]
    return sorted({g for g in groups if g}), any(g is None for g in groups)


# --- the rules ------------------------------------------------------------------------------


def efa_layout(lid: str, resources: Resources) -> list[str] | None:
    data = instance_data(lid, resources)
    views = limits.interface_views(data.get("NetworkInterfaces")) if data is not None else None
    return limits.efa_layout_problems(views) if views is not None else None


def efa_every_card(lid: str, resources: Resources) -> list[str] | None:
    views = efa_interfaces(lid, resources)
    if views is None:
        return None
    problems: list[str] = []
    known = False
    for instance_type in launch_instance_types(lid, resources):
        spec = InstanceCatalog.find(instance_type)
        if spec is None or not spec.efa_supported:
            continue
        known = True
        plan = plan_efa_interfaces(spec)
        capable = {i.network_card_index for i in plan if i.interface_type != "interface"}
        problems += limits.efa_card_coverage_problems(
            instance_type, limits.efa_cards(views), capable
        )
    return problems if known else None


def efa_cluster_placement(lid: str, resources: Resources) -> list[str] | None:
    if efa_interfaces(lid, resources) is None:
        return None
    data = instance_data(lid, resources) or {}
    if _get(data, "InstanceMarketOptions", "MarketType") == "capacity-block":
        return None  # AWS places a Capacity Block's instances itself
    if _get(data, "CapacityReservationSpecification", "CapacityReservationTarget"):
        return None  # the reservation's own placement group decides
    groups = [
        g
        for g in [_placement_group(x, resources) for x in [lid, *launchers_of(lid, resources)]]
        if g
    ]
    if not groups:
        return ["EFA instances launch outside any placement group"]
    problems: list[str] = []
    for group in groups:
        target = _target(group, resources, "AWS::EC2::PlacementGroup")
        strategy = props(resources.get(target)).get("Strategy") if target else None
        if target and str(strategy).lower() != "cluster":
            problems.append(f"placement group {target} has strategy {strategy!r}, not 'cluster'")
    return problems


def _subnet_azs(values: Any, resources: Resources) -> set[str]:
    azs: set[str] = set()
    for value in values if isinstance(values, list) else []:
        subnet = _target(value, resources, "AWS::EC2::Subnet")
        p = props(resources.get(subnet)) if subnet else {}
        az = limits.literal_str(p.get("AvailabilityZone") or p.get("AvailabilityZoneId"))
        if az:
            azs.add(az)
    return azs


def efa_single_az(lid: str, resources: Resources) -> list[str] | None:
    resource = resources.get(lid, {})
    kind = resource.get("Type")
    p = props(resource)
    subnets = {
        ASG: p.get("VPCZoneIdentifier"),
        BATCH_CE: _get(p, "ComputeResources", "Subnets"),
        PCS_NODE_GROUP: p.get("SubnetIds"),
    }.get(str(kind))
    if subnets is None:
        return None
    template = launch_template_id(lid, resources)
    cluster = _target(_placement_group(lid, resources), resources, "AWS::EC2::PlacementGroup")
    if (template is None or efa_interfaces(template, resources) is None) and cluster is None:
        return None
    azs = _subnet_azs(subnets, resources)
    if len(azs) > 1:
        return [f"EFA/cluster-placement nodes span Availability Zones {', '.join(sorted(azs))}"]
    return []


def efa_security_group(lid: str, resources: Resources) -> list[str] | None:
    if efa_interfaces(lid, resources) is None:
        return None
    groups, _unknown = _interface_groups(lid, resources)
    if not groups:
        return None
    problems: list[str] = []
    for group in groups:
        inbound = security_group_rules(group, resources, "Ingress")
        outbound = security_group_rules(group, resources, "Egress")
        if not any(r.protocol == "-1" and r.peer_group == group for r in inbound):
            problems.append(f"{group}: no inbound rule allowing all traffic from itself")
        if not any(
            r.protocol == "-1" and (r.peer_group == group or r.cidr == "0.0.0.0/0")
            for r in outbound
        ):
            problems.append(f"{group}: no outbound rule allowing all traffic to itself")
    return problems


#: The self-referencing range aws-cdk-lib's ``fsx.LustreFileSystem`` adds to its own group
#: (``connections.allowInternally(Port.tcpRange(988, 1023))``).
L2_SELF_RANGE = (988, 1023)


def lustre_ports(lid: str, resources: Resources) -> list[str] | None:
    p = props(resources.get(lid))
    if p.get("FileSystemType") != "LUSTRE" or _get(p, "LustreConfiguration", "EfaEnabled"):
        return None
    groups = [_target(g, resources, SECURITY_GROUP) for g in p.get("SecurityGroupIds") or []]
    known = [g for g in groups if g]
    if not known:
        return None
    problems: list[str] = []
    for group in known:
        # aws-cdk-lib's fsx.LustreFileSystem opens TCP 988-1023 from its own group (file
        # server to file server); that self rule reaches no client and is not ours to judge.
        rules = [
            (r.protocol, r.from_port, r.to_port)
            for r in security_group_rules(group, resources, "Ingress")
            if not (r.peer_group == group and (r.from_port, r.to_port) == L2_SELF_RANGE)
        ]
        if not rules:
            continue  # no client is let in (yet): nothing opened, nothing wrong to report
        problems += [f"{group}: {p}" for p in limits.lustre_ingress_problems(rules)]
    return problems


def lustre_sizing(lid: str, resources: Resources) -> list[str] | None:
    found = limits.lustre_resource_problems(props(resources.get(lid)))
    if found is None:
        return None
    return [f"{prop} {value!r} is invalid; allowed: {allowed}" for prop, value, allowed in found]


def batch_multinode_on_demand(lid: str, resources: Resources) -> list[str] | None:
    compute = _get(props(resources.get(lid)), "ComputeResources")
    if not isinstance(compute, Mapping):
        return None
    if compute.get("Type") not in ("SPOT", "FARGATE_SPOT"):
        return []
    template = launch_template_id(lid, resources)
    if compute.get("PlacementGroup") or (template and efa_interfaces(template, resources)):
        return [f"a multi-node (placement group / EFA) compute environment on {compute['Type']}"]
    return []


def batch_node_ranges(lid: str, resources: Resources) -> list[str] | None:
    return limits.multinode_problems(props(resources.get(lid)))


def storage_retained(lid: str, resources: Resources) -> list[str] | None:
    resource = resources.get(lid, {})
    return limits.deletion_policy_problems(
        str(resource.get("Type")), resource.get("DeletionPolicy")
    )


def imdsv2_required(lid: str, resources: Resources) -> list[str] | None:
    resource = resources.get(lid, {})
    kind = resource.get("Type")
    p = props(resource)
    if kind == LAUNCH_TEMPLATE:
        tokens = _get(p, "LaunchTemplateData", "MetadataOptions", "HttpTokens")
    elif kind in (INSTANCE, "AWS::AutoScaling::LaunchConfiguration"):
        tokens = _get(p, "MetadataOptions", "HttpTokens")
        template = launch_template_id(lid, resources)
        if tokens is None and template is not None:
            return imdsv2_required(template, resources)
    else:
        return None
    if isinstance(tokens, (Mapping, list)):
        return None
    return [] if tokens == "required" else [f"HttpTokens is {tokens or 'unset (optional)'}"]


# --- the catalogue of rules -----------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One rule of the pack: its id suffix (``HPC-<suffix>``), what and why, its source."""

    suffix: str
    info: str
    explanation: str
    source: str
    resource_types: tuple[str, ...]
    check: Check

    @property
    def rule_id(self) -> str:
        return f"HPC-{self.suffix}"


_LAUNCH = (LAUNCH_TEMPLATE, INSTANCE)
_EC2_EFA = "EC2 User Guide, Elastic Fabric Adapter"

RULES: tuple[Rule, ...] = (
    Rule(
        "EFA1",
        "The network interfaces break EFA's layout rules (interface types, the primary "
        "interface at card 0 device 0, one EFA per network card, no IP on efa-only).",
        "EC2 rejects or silently degrades a launch whose interfaces break these rules.",
        f"{_EC2_EFA}, 'Maximize network bandwidth on accelerated instances'; limits.efa_layout_problems (cfn-lint E9102)",
        _LAUNCH,
        efa_layout,
    ),
    Rule(
        "EFA2",
        "An EFA launch leaves an EFA-capable network card of its instance type without an "
        "EFA interface.",
        "Each network card carries its own share of the bandwidth: an EFA instance without "
        "an EFA interface on every EFA-capable card gets a fraction of its fabric bandwidth.",
        f"{_EC2_EFA}, 'Maximize network bandwidth on accelerated instances'; catalog.plan_efa_interfaces",
        _LAUNCH,
        efa_every_card,
    ),
    Rule(
        "EFA3",
        "EFA instances launch outside a cluster placement group.",
        "AWS recommends launching every EFA instance into a cluster placement group, to "
        "minimize the physical distance between them (Capacity Blocks and Capacity "
        "Reservations place instances themselves and are exempt).",
        "AWS PCS User Guide, '(Optional) Create a placement group' (launch all EFA instances "
        "in a cluster placement group); nodes.plan_placement",
        _LAUNCH,
        efa_cluster_placement,
    ),
    Rule(
        "EFA4",
        "EFA or cluster-placement nodes are spread over several Availability Zones.",
        "A cluster placement group is a grouping of instances within a single Availability "
        "Zone, and EFA is not supported across Availability Zones.",
        "EC2 Auto Scaling API, CreateAutoScalingGroup PlacementGroup; AWS ParallelCluster User "
        "Guide, 'Elastic Fabric Adapter'",
        (ASG, BATCH_CE, PCS_NODE_GROUP),
        efa_single_az,
    ),
    Rule(
        "EFA5",
        "A security group on EFA interfaces does not allow all traffic to and from itself.",
        "To enable OS-bypass, an EFA must be a member of a security group that allows all "
        "inbound and outbound traffic to and from the security group itself.",
        "EC2 User Guide, 'Create and attach an EFA' and 'Prepare an EFA-enabled security "
        "group'; efa.create_efa_security_group",
        _LAUNCH,
        efa_security_group,
    ),
    Rule(
        "LUS1",
        "A Lustre file system's security group opens other inbound ports than exactly TCP 988 "
        "and TCP 1018-1023, or not both.",
        "Clients reach Lustre on TCP 988 and 1018-1023 (without them the file system is not "
        "even created); anything wider exposes the file servers. EFA-enabled file systems "
        "need all traffic within the group and are not checked.",
        "FSx for Lustre User Guide, 'File system access control with Amazon VPC' and "
        "'Creating an FSx for Lustre file system fails'; limits.LUSTRE_TCP_PORT_RANGES",
        (LUSTRE,),
        lustre_ports,
    ),
    Rule(
        "LUS2",
        "A Lustre file system's deployment type, storage type, capacity or per-unit "
        "throughput is not a combination FSx accepts.",
        "FSx rejects the file system at deploy time, after the rest of the stack was built.",
        "FSx API reference, CreateFileSystem; limits.lustre_problems (cfn-lint E9101)",
        (LUSTRE,),
        lustre_sizing,
    ),
    Rule(
        "BAT1",
        "A multi-node (placement group or EFA) Batch compute environment uses Spot.",
        "AWS Batch does not run multi-node parallel jobs on compute environments that use "
        "Spot Instances.",
        "AWS Batch User Guide, 'Multi-node parallel jobs'; batch.spot_rule",
        (BATCH_CE,),
        batch_multinode_on_demand,
    ),
    Rule(
        "BAT2",
        "A multi-node job definition's node ranges are invalid (main node, at most five "
        "ranges, every node covered).",
        "AWS Batch rejects the job definition or leaves nodes without a container.",
        "AWS Batch User Guide, 'Multi-node parallel jobs'; limits.node_range_problems "
        "(cfn-lint E9103)",
        ("AWS::Batch::JobDefinition",),
        batch_node_ranges,
    ),
    Rule(
        "STOR1",
        "A data-bearing resource (EBS, EFS, FSx, S3, RDS) is deleted with its stack.",
        "Results, inputs and home directories outlive a stack update gone wrong: keep them "
        "with DeletionPolicy Retain (or Snapshot where supported).",
        "CloudFormation User Guide, 'DeletionPolicy attribute'; limits.deletion_policy_problems",
        limits.DATA_BEARING_RESOURCE_TYPES,
        storage_retained,
    ),
    Rule(
        "IMDS1",
        "Instance metadata options do not require IMDSv2 (HttpTokens is not 'required').",
        "With HttpTokens required, every metadata request needs a session token and the "
        "IMDSv1 role credentials are not available; unset leaves it to the AMI's ImdsSupport "
        "and the account default.",
        "EC2 API reference, LaunchTemplateInstanceMetadataOptionsRequest.HttpTokens",
        (LAUNCH_TEMPLATE, INSTANCE, "AWS::AutoScaling::LaunchConfiguration"),
        imdsv2_required,
    ),
)


def applicable(resource_type: str) -> Iterator[Rule]:
    for rule in RULES:
        if resource_type in rule.resource_types:
            yield rule


def findings(template: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Every problem in a template dict as ``(logical id, rule id, problem)``: the rules'
    details, for a synthesized template or any hand-written one (no CDK needed)."""
    resources: Resources = template.get("Resources") or {}
    found: list[tuple[str, str, str]] = []
    for lid, resource in resources.items():
        for rule in applicable(str(resource.get("Type"))):
            found += [(lid, rule.rule_id, p) for p in rule.check(lid, resources) or []]
    return found
