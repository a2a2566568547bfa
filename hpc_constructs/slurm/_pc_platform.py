"""What a platform team adds to a ParallelCluster configuration: custom actions, custom Slurm
settings, login node pools and a directory service. Option dataclasses, pure rules on plain
values and the configuration fragments they render (no CDK constructs)."""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from hpc_constructs.errors import TOKEN_SHOWN, Validator, is_token, type_problems

#: Settings ParallelCluster refuses in ``CustomSlurmSettings`` per level (aws-parallelcluster
#: 3.16.1, ``pcluster.validators.slurm_settings_validator.SLURM_SETTINGS_DENY_LIST``; compared
#: case-insensitively). "Accounting" applies with ``SlurmSettings.Database``.
PC_DENIED_SLURM_SETTINGS: dict[str, tuple[str, ...]] = {
    "SlurmConf": (
        "epilog", "grestypes", "launchparameters", "prolog", "reconfigflags",
        "resumefailprogram", "resumeprogram", "resumetimeout", "slurmctldhost",
        "slurmctldlogfile", "slurmctldparameters", "slurmdlogfile", "slurmuser",
        "suspendexcnodes", "suspendprogram", "suspendtime", "taskplugin", "treewidth",
    ),
    "Accounting": (
        "accountingstoragetype", "accountingstoragehost", "accountingstorageport",
        "accountingstorageuser", "jobacctgathertype",
    ),
    "Queue": ("nodes", "partitionname", "resumetimeout", "state", "suspendtime", "oversubscribe"),
    "ComputeResource": ("cpus", "gres", "nodeaddr", "nodehostname", "nodename", "state", "weight"),
}  # fmt: skip
#: Login node pools per cluster (``pcluster.constants.MAX_NUMBER_OF_LOGIN_NODE_POOLS``).
MAX_LOGIN_POOLS = 10
#: ``LoginNodesPoolSchema.gracetime_period``: minutes, 3 to 120.
GRACETIME_RANGE = (3, 120)
#: ``DirectoryServiceSchema.ldap_tls_req_cert`` values; ParallelCluster warns below
#: ``demand`` (``LdapTlsReqCertValidator``).
LDAP_TLS_REQ_CERT = ("never", "allow", "try", "demand", "hard")
_SAFE_REQ_CERT = ("hard", "demand")
#: ``DomainNameValidator``: an FQDN or an LDAP distinguished name.
_FQDN = re.compile(r"^([a-zA-Z0-9_-]+)(\.[a-zA-Z0-9_-]+)*$")
_LDAP_DN = re.compile(r"^((DC|dc)=[a-zA-Z0-9_-]+)(,(DC|dc)=[a-zA-Z0-9_-]+)*$")
#: ``DirectoryServiceSchema.password_secret_arn``: a Secrets Manager secret or SSM parameter.
_SECRET_ARN = re.compile(r"^arn:.*:(secretsmanager:.*:.*:secret:|ssm:.*:.*:parameter\/).*$")
#: ``DomainAddrValidator``: ldaps (default) or ldap.
_DOMAIN_ADDR = re.compile(r"^(ldaps?)://[A-Za-z0-9.\-]+(:\d+)?$")
_S3_URL = re.compile(r"^s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])/(.+)$")


@dataclass(frozen=True, kw_only=True)
class CustomAction:
    """One script a ParallelCluster node runs (``Script`` and ``Args``).

    :param script: an ``s3://bucket/key`` or ``https://`` URL; the nodes' roles may read an
        ``s3://`` script (granted on that object only). Use :meth:`from_asset` or
        :meth:`from_bucket` for a bucket known only at deploy time.
    :param args: arguments passed to the script. Default: - none.
    """

    script: str
    args: Sequence[str] = ()
    bucket_name: str | None = None
    object_key: str | None = None

    @classmethod
    def from_asset(cls, asset: s3_assets.Asset, args: Sequence[str] = ()) -> CustomAction:
        """A script uploaded as a CDK asset (``s3_assets.Asset(path="configure.sh")``)."""
        return cls(
            script=asset.s3_object_url,
            args=tuple(args),
            bucket_name=asset.s3_bucket_name,
            object_key=asset.s3_object_key,
        )

    @classmethod
    def from_commands(
        cls, scope: Construct, id: str, commands: Sequence[str], args: Sequence[str] = ()
    ) -> CustomAction:
        """Shell commands as a script (``#!/bin/bash``, ``set -eo pipefail``) uploaded as a
        CDK asset under ``scope/id`` (synthesis stays offline; deploying needs a bootstrapped
        environment)."""
        asset = s3_assets.Asset(scope, id, path=write_script(commands))
        return cls.from_asset(asset, args)

    @classmethod
    def from_bucket(cls, bucket: s3.IBucket, key: str, args: Sequence[str] = ()) -> CustomAction:
        """A script at ``key`` in ``bucket``."""
        return cls(
            script=bucket.s3_url_for_object(key),
            args=tuple(args),
            bucket_name=bucket.bucket_name,
            object_key=key,
        )

    @property
    def s3_object(self) -> tuple[str, str] | None:
        """(bucket, key) of an S3 script, for the read grant; None for https."""
        if self.bucket_name is not None and self.object_key is not None:
            return self.bucket_name, self.object_key
        match = _S3_URL.match(self.script) if not is_token(self.script) else None
        return (match.group(1), match.group(2)) if match else None


@dataclass(frozen=True, kw_only=True)
class CustomActions:
    """Scripts run at a node's life-cycle events (ParallelCluster ``CustomActions``).

    :param on_node_start: before the node is configured (``OnNodeStart``). Default: - none.
    :param on_node_configured: once it is configured (``OnNodeConfigured``). Default: - none.
    :param on_node_updated: after a cluster update, head node and login pools only
        (``OnNodeUpdated``). Default: - none.
    """

    on_node_start: Sequence[CustomAction] = ()
    on_node_configured: Sequence[CustomAction] = ()
    on_node_updated: Sequence[CustomAction] = ()

    def all(self) -> list[CustomAction]:
        return [*self.on_node_start, *self.on_node_configured, *self.on_node_updated]


@dataclass(frozen=True, kw_only=True)
class LoginNodePool:
    """A ParallelCluster login node pool (``LoginNodes.Pools``): where users log in, submit
    and build; it mounts the cluster's shared storage and reaches the head node.

    :param name: lowercase letters, digits and hyphens, starting with a letter, at most 25;
        not a queue's name.
    :param instance_type: the pool's type (of the cluster's architecture).
    :param count: nodes in the pool (0 stops it). Default: - 1.
    :param vpc_subnets: the pool's one subnet. Default: - the head node's subnet.
    :param ssh_allowed_cidr: who may reach port 22 of the pool (``Ssh.AllowedIps``).
        Default: - the VPC's CIDR (never 0.0.0.0/0 by default; Session Manager works anyway).
    :param gracetime_period_minutes: warning time before a node is stopped
        (``GracetimePeriod``, 3-120). Default: - ParallelCluster's (10).
    :param custom_actions: the pool's :class:`CustomActions`. Default: - none.
    """

    name: str
    instance_type: str
    count: int = 1
    vpc_subnets: Any = None
    ssh_allowed_cidr: str | None = None
    gracetime_period_minutes: int | None = None
    custom_actions: CustomActions | None = None


@dataclass(frozen=True, kw_only=True)
class DirectoryService:
    """AD or LDAP users on every node (ParallelCluster ``DirectoryService``, through SSSD).

    :param domain_name: FQDN (``corp.example.com``) or LDAP DN (``DC=corp,DC=example,DC=com``).
    :param domain_addresses: LDAP(S) URLs of the domain controllers
        (``ldaps://corp.example.com``); joined into ``DomainAddr``.
    :param read_only_user: DN of the user SSSD binds as (``DomainReadOnlyUser``).
    :param password_secret_arn: ARN of the Secrets Manager secret or SSM parameter that holds
        that user's password; the password itself is refused.
    :param ldap_tls_ca_cert: path on the nodes of the CA bundle for LDAPS. Default: - none.
    :param ldap_tls_req_cert: ``hard`` or ``demand`` check the server certificate (``never``,
        ``allow`` and ``try`` warn). Default: - ``"hard"``.
    :param ldap_access_filter: LDAP filter of who may log in (``LdapAccessFilter``), e.g. an
        administrators' group for the head node. Default: - every domain user.
    :param generate_ssh_keys_for_users: create SSH keys at first login. Default: - ``True``.
    :param additional_sssd_configs: extra ``sssd.conf`` domain settings. Default: - none.
    """

    domain_name: str
    domain_addresses: Sequence[str]
    read_only_user: str
    password_secret_arn: str
    ldap_tls_ca_cert: str | None = None
    ldap_tls_req_cert: str = "hard"
    ldap_access_filter: str | None = None
    generate_ssh_keys_for_users: bool = True
    additional_sssd_configs: Mapping[str, str | int | bool] = field(default_factory=dict)


# --- rules ----------------------------------------------------------------------------------


def check_custom_actions(
    v: Validator, prop: str, actions: CustomActions | None, *, updated_allowed: bool
) -> None:
    if actions is None:
        return
    wrong = type_problems(v.path, prop, actions, CustomActions)
    if wrong:
        v.problems += wrong
        return
    if not updated_allowed:
        v.require(
            not actions.on_node_updated,
            f"{prop}.on_node_updated",
            len(actions.on_node_updated),
            "none: queues run OnNodeStart and OnNodeConfigured only (ParallelCluster "
            "QueueCustomActionsSchema)",
        )
    for event in ("on_node_start", "on_node_configured", "on_node_updated"):
        for i, action in enumerate(getattr(actions, event)):
            check_action(v, f"{prop}.{event}[{i}]", action)


def check_action(v: Validator, prop: str, action: CustomAction) -> None:
    wrong = type_problems(v.path, prop, action, CustomAction)
    if wrong:
        v.problems += wrong
        return
    if is_token(action.script):
        v.require(
            action.s3_object is not None,
            f"{prop}.script",
            TOKEN_SHOWN,
            "a concrete s3:// or https:// URL, or CustomAction.from_asset / from_bucket "
            "(the nodes' roles are granted read on the object)",
        )
        return
    v.require(
        action.script.startswith("https://") or action.s3_object is not None,
        f"{prop}.script",
        action.script,
        "an s3://bucket/key or https:// URL",
    )


def check_custom_settings(
    v: Validator,
    prop: str,
    settings: Mapping[str, Any] | None,
    level: str,
    *,
    accounting: bool = False,
) -> None:
    """ParallelCluster's deny lists, case-insensitively, and (cluster level) its rule that
    custom node names may not contain ``-st-`` or ``-dy-``."""
    if not settings:
        return
    denied = list(PC_DENIED_SLURM_SETTINGS[level])
    if accounting:
        denied += PC_DENIED_SLURM_SETTINGS["Accounting"]
    bad = sorted(k for k in settings if str(k).lower() in denied)
    v.require(
        not bad,
        prop,
        bad,
        f"settings ParallelCluster allows at {level} level (it manages "
        f"{', '.join(denied)} itself: aws-parallelcluster SLURM_SETTINGS_DENY_LIST)",
    )


def check_cluster_settings(
    v: Validator, settings: Sequence[Mapping[str, Any]], accounting: bool
) -> None:
    for i, entry in enumerate(settings):
        prop = f"custom_slurm_settings[{i}]"
        # Entries of several keys define custom nodes, node sets or partitions: ParallelCluster
        # does not check them against the deny list.
        if len(entry) == 1:
            check_custom_settings(v, prop, entry, "SlurmConf", accounting=accounting)
        names = [str(val) for key, val in entry.items() if str(key).lower() == "nodename"]
        bad = [n for n in names if "-st-" in n or "-dy-" in n]
        v.require(
            not bad,
            f"{prop}.NodeName",
            bad,
            "node names without -st- or -dy- (reserved for ParallelCluster's nodes: "
            "CustomSlurmNodeNamesValidator)",
        )


def check_login_pools(
    v: Validator, pools: Sequence[LoginNodePool], queue_names: Sequence[str], name_rule: Any
) -> None:
    v.require(
        len(pools) <= MAX_LOGIN_POOLS,
        "login_nodes",
        len(pools),
        f"at most {MAX_LOGIN_POOLS} pools",
    )
    names = [getattr(p, "name", None) for p in pools]
    v.require(len(set(names)) == len(names), "login_nodes", names, "unique pool names")
    for pool in pools:
        lp = f"login_nodes[{getattr(pool, 'name', '')}]"
        wrong = type_problems(v.path, lp, pool, LoginNodePool)
        if wrong:
            v.problems += wrong
            continue
        name_rule(v, f"{lp}.name", pool.name)
        v.require(
            pool.name not in queue_names,
            f"{lp}.name",
            pool.name,
            f"a name no queue uses ({', '.join(queue_names)}): one name, one group of nodes "
            "in the configuration, the Slurm commands and the EC2 tags",
        )
        v.in_range(f"{lp}.count", pool.count, 0, 10_000)
        if pool.gracetime_period_minutes is not None:
            v.in_range(
                f"{lp}.gracetime_period_minutes",
                pool.gracetime_period_minutes,
                *GRACETIME_RANGE,
                "minutes",
            )
        check_custom_actions(v, f"{lp}.custom_actions", pool.custom_actions, updated_allowed=True)


def check_secret_arn(v: Validator, prop: str, value: str) -> None:
    """An ARN, never a password: the value is not echoed when it is not an ARN."""
    if is_token(value):
        return
    v.require(
        bool(_SECRET_ARN.match(value)),
        prop,
        "<a string that is not a secret ARN; not shown>",
        "the ARN of a Secrets Manager secret or SSM parameter holding the password "
        "(arn:...:secretsmanager:...:secret:... or arn:...:ssm:...:parameter/...), never "
        "the password itself",
    )


def check_directory_service(v: Validator, ds: DirectoryService | None) -> bool:
    """The directory rules; True when the configuration is insecure enough to warn."""
    if ds is None:
        return False
    wrong = type_problems(v.path, "directory_service", ds, DirectoryService)
    if wrong:
        v.problems += wrong
        return False
    if not is_token(ds.domain_name):
        v.require(
            bool(_FQDN.match(ds.domain_name) or _LDAP_DN.match(ds.domain_name)),
            "directory_service.domain_name",
            ds.domain_name,
            "an FQDN (corp.example.com) or an LDAP DN (DC=corp,DC=example,DC=com)",
        )
    addresses = list(ds.domain_addresses)
    v.require(len(addresses) > 0, "directory_service.domain_addresses", addresses, "one or more")
    for address in addresses:
        if not is_token(address):
            v.require(
                bool(_DOMAIN_ADDR.match(address)),
                "directory_service.domain_addresses",
                address,
                "ldaps://host[:port] (or ldap://, which sends passwords in clear text)",
            )
    check_secret_arn(v, "directory_service.password_secret_arn", ds.password_secret_arn)
    v.one_of("directory_service.ldap_tls_req_cert", ds.ldap_tls_req_cert, LDAP_TLS_REQ_CERT)
    plain = any(str(a).startswith("ldap://") for a in addresses)
    return plain or ds.ldap_tls_req_cert not in _SAFE_REQ_CERT


# --- rendering ------------------------------------------------------------------------------


def action_config(actions: Sequence[CustomAction]) -> dict[str, Any] | None:
    """One ``Script`` (with ``Args``), or a ``Sequence`` of them (ParallelCluster 3.6+)."""

    def one(a: CustomAction) -> dict[str, Any]:
        return {"Script": a.script, **({"Args": list(a.args)} if a.args else {})}

    if not actions:
        return None
    if len(actions) == 1:
        return one(actions[0])
    return {"Sequence": [one(a) for a in actions]}


def custom_actions_config(
    actions: CustomActions | None, extra_configured: Sequence[CustomAction] = ()
) -> dict[str, Any] | None:
    """``CustomActions``; ``extra_configured`` (the ``user_data`` scripts) run after the
    user's own ``OnNodeConfigured`` actions."""
    out: dict[str, Any] = {}
    events = {
        "OnNodeStart": list(actions.on_node_start) if actions else [],
        "OnNodeConfigured": [*(actions.on_node_configured if actions else ()), *extra_configured],
        "OnNodeUpdated": list(actions.on_node_updated) if actions else [],
    }
    for key, items in events.items():
        rendered = action_config(items)
        if rendered is not None:
            out[key] = rendered
    return out or None


def directory_service_config(ds: DirectoryService) -> dict[str, Any]:
    out: dict[str, Any] = {
        "DomainName": ds.domain_name,
        "DomainAddr": ",".join(ds.domain_addresses),
        "PasswordSecretArn": ds.password_secret_arn,
        "DomainReadOnlyUser": ds.read_only_user,
        "LdapTlsReqCert": ds.ldap_tls_req_cert,
        "GenerateSshKeysForUsers": ds.generate_ssh_keys_for_users,
    }
    if ds.ldap_tls_ca_cert is not None:
        out["LdapTlsCaCert"] = ds.ldap_tls_ca_cert
    if ds.ldap_access_filter is not None:
        out["LdapAccessFilter"] = ds.ldap_access_filter
    if ds.additional_sssd_configs:
        out["AdditionalSssdConfigs"] = dict(ds.additional_sssd_configs)
    return out


def login_pool_config(
    pool: LoginNodePool,
    *,
    subnet_id: str,
    security_groups: Sequence[str],
    allowed_cidr: str,
    policies: Sequence[str],
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Name": pool.name,
        "InstanceType": pool.instance_type,
        "Count": pool.count,
        "Networking": {"SubnetIds": [subnet_id], "AdditionalSecurityGroups": list(security_groups)},
        "Ssh": {"AllowedIps": pool.ssh_allowed_cidr or allowed_cidr},
    }
    if pool.gracetime_period_minutes is not None:
        out["GracetimePeriod"] = pool.gracetime_period_minutes
    actions = custom_actions_config(pool.custom_actions)
    if actions is not None:
        out["CustomActions"] = actions
    if policies:
        out["Iam"] = {"AdditionalIamPolicies": [{"Policy": p} for p in policies]}
    return out


def write_script(lines: Sequence[str]) -> str:
    """Write a boot script into a temporary directory named by its content hash (the same
    commands give the same asset; synthesis stays offline) and return its path."""
    text = "\n".join(["#!/bin/bash", "set -eo pipefail", *lines]) + "\n"
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"hpc-constructs-script-{digest}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "on-node-configured.sh"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return str(path)
