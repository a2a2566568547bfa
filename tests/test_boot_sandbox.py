"""The generated boot scripts, executed: every plan through first boot, re-run, reboot and
stop/start, and every failure scenario gated out (tests/sandbox/harness.py runs them).

The scenarios run in a thread pool (one sandbox boot is a few hundred processes); each test
waits for its own scenario and re-raises what it raised.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hpc_constructs.batch import BatchProps, batch_boot_plan, plan_batch
from hpc_constructs.boot import BootPlan, MountStep, ScratchStep, TelemetryStep, node_setup_script
from hpc_constructs.boot import user_data_script as make_user_data
from hpc_constructs.boot.plan import ImageFacts
from hpc_constructs.catalog import InstanceCatalog
from hpc_constructs.errors import Validator
from hpc_constructs.fleet import FleetProps, ScratchVolume, fleet_boot_plan, plan_fleet
from hpc_constructs.image import ImageProps, Installer, PcsSoftware, plan_image
from hpc_constructs.slurm._pcs_plan import NodeGroupFacts, pcs_boot_plan, plan_node_group
from tests.sandbox.harness import Boot, Call, SandboxNode
from tests.sandbox.runner import ScenarioRunner, assert_shellcheck_clean, needs_namespaces

ROOT = Path(__file__).resolve().parent.parent
LUSTRE = MountStep("lustre", "fs-0abc.fsx.us-east-1.amazonaws.com@tcp:/x1yz2abc", "/fsx")
EFS = MountStep("efs", "fs-0def:/", "/shared")
SCRATCH = ScratchStep("/dev/sdf", "/scratch/ebs", "EBS scratch volume (gp3, 500 GiB)")
USER_COMMANDS = ("echo ran >>/var/tmp/user-commands.count",)
LAUNCHERS = {
    "fleet": ("EfaComputeFleet", "lifecycle-hook", ()),
    "batch": ("BatchMultiNode", "ecs", ("ecs",)),
    "pcs": ("PcsComputeNodeGroup", "slurmd", ("slurmd",)),
}
#: name -> (launcher, instance type, mounts, scratch volume, image owns the instance store at)
PLANS: dict[str, tuple[str, str, tuple[MountStep, ...], ScratchStep | None, str | None]] = {
    "fleet-c5n": ("fleet", "c5n.18xlarge", (LUSTRE, EFS), SCRATCH, None),
    "fleet-hpc7a": ("fleet", "hpc7a.96xlarge", (LUSTRE,), None, None),
    "fleet-hpc6id": ("fleet", "hpc6id.32xlarge", (LUSTRE,), SCRATCH, None),
    "fleet-i4i": ("fleet", "i4i.32xlarge", (EFS,), None, None),
    "fleet-p5": ("fleet", "p5.48xlarge", (LUSTRE,), None, "/opt/dlami/nvme"),
    "batch-c5n": ("batch", "c5n.18xlarge", (LUSTRE,), None, None),
    "batch-p4d": ("batch", "p4d.24xlarge", (LUSTRE, EFS), None, None),
    "pcs-hpc6id": ("pcs", "hpc6id.32xlarge", (LUSTRE,), None, None),
}


def boot_plan(name: str, *, gate: bool = True, golden: bool = False) -> BootPlan:
    """The boot plan of ``PLANS[name]`` (one cache entry per name, gate and image however
    called); ``golden``: the nodes run an HpcImage (it installs nothing at boot)."""
    return _boot_plan(name, gate, golden)


def golden_facts(launcher: str, instance_type: str) -> ImageFacts:
    """What an HpcImage for these nodes claims to hold (its plan's facts)."""
    base = "ecs-optimized" if launcher == "batch" else None
    pcs = PcsSoftware("25.11", slurm_installer=Installer("25.11.0-1", "0" * 64))
    props = ImageProps((instance_type,), base=base, pcs=pcs if launcher == "pcs" else None)
    v = Validator("Sandbox/Image")
    plan = plan_image(v, props, "Sandbox/Image")
    assert plan is not None, v.problems
    return plan.facts


@functools.cache
def _boot_plan(name: str, gate: bool, golden: bool = False) -> BootPlan:
    """The plan the construct builds, from its own plan functions on plain values (the
    constructs render ``user_data_script`` of exactly these plans). Cached, and first built
    on the main thread (``cache_key``): the plan functions reach the jsii runtime, which
    must not be called from the scenario threads."""
    launcher, instance_type, mounts, scratch, _ = PLANS[name]
    image = golden_facts(launcher, instance_type) if golden else None
    v = Validator(f"Sandbox/{name}")
    spec = InstanceCatalog.get(instance_type)
    telemetry = TelemetryStep(
        "/hpc-constructs/sandbox", f"Sandbox/{name}", efa=spec.efa_supported, gpu=spec.is_gpu
    )
    if launcher == "fleet":
        volume = ScratchVolume(500, mount_point=scratch.mount_point) if scratch else None
        fleet = plan_fleet(v, FleetProps((instance_type,), max_nodes=2, scratch_volume=volume,
                                         health_gate=gate, image=image))  # fmt: skip
        assert fleet is not None, v.problems
        return fleet_boot_plan(fleet, spec, mounts, telemetry)
    if launcher == "batch":
        batch = plan_batch(v, BatchProps(instance_type=instance_type, max_nodes=2,
                                         health_gate=gate, image=image))  # fmt: skip
        assert batch is not None, v.problems
        return batch_boot_plan(batch, mounts, telemetry)
    group = plan_node_group(v, NodeGroupFacts(), name="sandbox", instance_types=[instance_type],
                            min_nodes=0, max_nodes=2, health_gate=gate, image=image)  # fmt: skip
    assert group is not None, v.problems
    slurm = TelemetryStep(telemetry.log_group, telemetry.node_group, efa=telemetry.efa, slurm=True)
    return pcs_boot_plan(group, mounts, slurm)


def make_node(name: str, workdir: Path, **kwargs: object) -> SandboxNode:
    kwargs.setdefault("user_commands", USER_COMMANDS)
    kwargs.setdefault("image_owns_instance_store", PLANS[name][4])
    plan = kwargs.pop("plan", None) or boot_plan(name)
    return SandboxNode(plan, workdir, stat_paths=("/scratch/local/kept",), **kwargs)  # type: ignore[arg-type]


def user_command_runs(node: SandboxNode) -> int:
    path = node.file("/var/tmp/user-commands.count")
    return len(path.read_text().splitlines()) if path.exists() else 0


# --- outcome checks -------------------------------------------------------------------------


def check_ready(node: SandboxNode, boot: Boot, *, continues: bool | None = None) -> None:
    """The node is in service: every step done, mounts and modes right, the gate passed
    (``continues``: this boot ends the launch lifecycle hook; default: on the first boot)."""
    plan = node.plan
    assert plan is not None
    assert boot.status == 0, boot.log
    assert not boot.failures, boot.failures
    assert "hpc-constructs: node ready" in boot.steps
    assert not boot.emergency
    for m in plan.mounts:
        mounted = boot.mounted(m.mount_point)
        assert mounted is not None, f"{m.mount_point} not mounted\n{boot.log}"
        assert (mounted.source, mounted.fstype) == (m.source, m.kind)
    lines = node.fstab_lines()
    for m in plan.mounts:
        mine = [line for line in lines if line.split()[1] == m.mount_point]
        assert mine == [m.fstab_line], lines
        if m.kind == "lustre":
            assert {"_netdev", "x-systemd.automount"} <= set(mine[0].split()[3].split(","))
    if plan.scratch:
        assert boot.mounted(plan.scratch.mount_point) is not None
        assert boot.modes[plan.scratch.mount_point] == "1777"
    store = [f"/dev/{d.name}" for d in node.disks if d.kind == "instance-store"]
    if plan.instance_store_disks and not node.image_owns_instance_store:
        local = boot.mounted("/scratch/local")
        assert local is not None, boot.log
        assert boot.modes["/scratch/local"] == "1777"
        if len(store) > 1:
            assert boot.arrays[local.source.removeprefix("/dev/")] == ("hpc-local", tuple(store))
        else:
            assert local.source == store[0]
    if node.image_owns_instance_store:
        assert boot.mounted("/scratch/local") is None
        assert boot.mounted(node.image_owns_instance_store) is not None
        assert {c.argv[1] for c in boot.node_calls("mdadm")} <= {"--detail"}
        assert not boot.node_calls("mkfs.xfs")
        assert any("in use by the image" in s for s in boot.steps), boot.steps
    if plan.gate == "lifecycle-hook":
        if continues is None:
            continues = boot.kind == "first"
        assert boot.lifecycle_results == (["CONTINUE"] if continues else []), boot.log
        assert boot.health_reports == []
        assert node.lifecycle_state() == "InService"
    for unit in plan.required_by:
        assert boot.services[unit] == "started"
    assert not boot.masked
    assert not boot.powered_off
    assert not boot.reboot_requested
    assert user_command_runs(node) == 1
    if plan.telemetry is not None:
        check_telemetry(node, boot, "BootSuccesses")


def boot_metrics(node: SandboxNode) -> list[str]:
    path = node.file("/sim/state/metrics")
    return path.read_text().splitlines() if path.exists() else []


def check_telemetry(node: SandboxNode, boot: Boot, metric: str) -> None:
    """The agent runs with the node's configuration; the boot's outcome is a metric."""
    plan = node.plan
    assert plan is not None
    assert plan.telemetry is not None
    assert f"{metric} NodeGroup={plan.telemetry.node_group}" in boot_metrics(node)
    if "telemetry: the CloudWatch agent could not be installed" in boot.log or (
        "the CloudWatch agent is not on the golden image" in boot.log
    ):
        return  # dnf unreachable: the outcome metric is all there is (the aws CLI sends it)
    running = node.file("/sim/boot/agent")
    assert running.exists(), boot.log
    collected = json.loads(running.read_text())["metrics"]["metrics_collected"]
    assert ("efa" in collected) is plan.telemetry.efa
    assert ("nvidia_gpu" in collected) is plan.telemetry.gpu
    assert any("telemetry: CloudWatch agent running" in s for s in boot.steps), boot.steps


def is_boot_metric(call: Call) -> bool:
    """The set-up's outcome metric (a re-run reports its outcome too) and the instance
    metadata reads it needs (region), which every run makes."""
    if call.command == "aws":
        return call.argv[1:3] == ("cloudwatch", "put-metric-data")
    return call.command == "curl" and any("169.254.169.254" in a for a in call.argv)


def check_gated_out(node: SandboxNode, boot: Boot, cause: str) -> None:
    """The node is out of service, and the log's FAILED line names ``cause``."""
    plan = node.plan
    assert plan is not None
    assert boot.status not in (0, None), boot.log
    assert any(cause in line for line in boot.failures), f"{cause!r} not in {boot.failures}"
    assert "hpc-constructs: node ready" not in boot.steps
    if plan.gate == "lifecycle-hook":
        in_service = any("CONTINUE" in b.lifecycle_results for b in node.boots[:-1])
        if not in_service:  # still Pending:Wait: the launch is abandoned
            assert boot.lifecycle_results == ["ABANDON"], boot.log
        else:
            assert boot.lifecycle_results == []
            assert boot.health_reports == ["Unhealthy"]
        assert node.lifecycle_state() == "Terminating"
    elif plan.gate in ("ecs", "slurmd"):
        assert boot.masked == [plan.gate], boot.calls
        assert boot.powered_off
        assert boot.services[plan.gate] == "masked"
    else:
        assert any("health gate off" in s for s in boot.steps)
    assert node.terminated == (plan.gate != "none")
    if plan.telemetry is not None:
        check_telemetry(node, boot, "BootFailures")


# --- scenarios ------------------------------------------------------------------------------


def lifecycle(name: str, workdir: Path) -> None:
    """First boot (and a re-run of the set-up in that boot), reboot, stop/start."""
    node = make_node(name, workdir)
    plan = node.plan
    assert plan is not None
    first = node.first_boot(rerun=True)
    check_ready(node, first)
    # the re-run in the same boot: nothing mounted twice, the array and disks untouched
    assert first.rerun_status == 0
    rerun = [c for c in first.calls if c.phase == "setup" and not is_boot_metric(c)]
    assert not [c for c in rerun if c.command in ("mount", "mkfs.xfs", "aws", "dnf", "curl")]
    assert {c.argv[1] for c in rerun if c.command == "mdadm"} <= {"--detail"}
    for m in plan.mounts:
        assert (
            f"hpc-constructs: {m.kind.replace('lustre', 'Lustre').replace('efs', 'EFS')}: {m.source} already mounted at {m.mount_point}"
            in first.log
        )
    if plan.efa_devices and plan.install_efa:
        assert first.node_calls("efa_installer.sh")
    local = first.mounted("/scratch/local")
    if local:  # a file on the instance store: kept across a reboot, gone after a stop/start
        Path(node.file(f"/sim/fsdata/{_fs_key(node, first, local.source)}/kept")).touch()

    again = node.reboot()
    check_ready(node, again)
    assert not again.node_calls("efa_installer.sh")
    if local and len(again.arrays) == 1 and not node.image_owns_instance_store:
        assert any("array re-assembled" in s for s in again.steps), again.steps
        assert not again.node_calls("mkfs.xfs") or plan.scratch is None
        assert again.modes["/scratch/local/kept"] != "missing"
    for m in plan.mounts:
        if m.kind == "lustre":  # automounted at first access, by the set-up's check
            assert any(c.caller == "automount" for c in again.calls if c.command == "mount")

    restarted = node.stop_start()
    check_ready(node, restarted)
    if local and not node.image_owns_instance_store:
        assert any("formatted xfs" in s and "instance store" in s for s in restarted.steps)
        assert restarted.modes["/scratch/local/kept"] == "missing"
    if plan.scratch:
        assert any("(existing file system)" in s for s in restarted.steps)


def _fs_key(node: SandboxNode, boot: Boot, source: str) -> str:
    name = source.removeprefix("/dev/")
    if name in boot.arrays:
        disk = boot.arrays[name][1][0].removeprefix("/dev/")
        return "md-" + node.file(f"/sim/disks/{disk}/md").read_text().split()[1]
    return name


def efa_download_fails(name: str, workdir: Path) -> None:
    node = make_node(name, workdir, knobs={"efa_download": "fail"})
    boot = node.first_boot()
    check_gated_out(node, boot, "EFA installer: download of https://efa-installer")
    assert len(boot.node_calls("curl", "user-data")) >= 5  # retried with back-off
    assert [c.argv[1] for c in boot.node_calls("sleep")][:4] == ["10", "20", "40", "60"]
    assert not boot.node_calls("tar")
    assert user_command_runs(node) == 0


def efa_archive_corrupt(name: str, workdir: Path) -> None:
    node = make_node(name, workdir, knobs={"efa_download": "corrupt"})
    boot = node.first_boot()
    check_gated_out(node, boot, "EFA installer: the download is not a valid archive")
    assert not boot.node_calls("efa_installer.sh")


def efa_device_missing(name: str, workdir: Path) -> None:
    plan = boot_plan(name)
    node = make_node(name, workdir, efa_devices=plan.efa_devices - 1)
    boot = node.first_boot()
    found = plan.efa_devices - 1
    check_gated_out(
        node,
        boot,
        f"EFA: expected {plan.efa_devices} EFA devices (/dev/infiniband/uverbs*), found {found}",
    )
    assert not boot.node_calls("mount")


def lustre_unreachable(name: str, workdir: Path) -> None:
    node = make_node(name, workdir, knobs={"fs_unreachable": "lustre"})
    boot = node.first_boot()
    check_gated_out(node, boot, f"Lustre: {LUSTRE.source} not mounted at /fsx after 6 attempts")
    assert boot.mount_attempts("/fsx") == 6
    assert [c.argv[1] for c in boot.node_calls("sleep")] == ["5", "10", "20", "40", "60"]


def lustre_unreachable_later(name: str, workdir: Path) -> None:
    """In service, then a reboot where Lustre does not come back: Unhealthy (fleet)."""
    node = make_node(name, workdir)
    check_ready(node, node.first_boot())
    node.knobs["fs_unreachable"] = "lustre"
    check_gated_out(node, node.reboot(), "Lustre: fs-0abc")


def lustre_module_fails(name: str, workdir: Path) -> None:
    kernel = "6.12.40-63.114.amzn2023.x86_64"
    node = make_node(name, workdir, knobs={"lustre_module": "fail", "kernel": kernel})
    boot = node.first_boot()
    check_gated_out(node, boot, f"the lustre module does not load on kernel {kernel}")
    assert boot.mount_attempts("/fsx") == 0


def golden_lifecycle(name: str, workdir: Path) -> None:
    """On an HpcImage: ready through first boot, reboot and stop/start without installing or
    downloading anything, even with dnf and the EFA download unreachable."""
    plan = boot_plan(name, golden=True)
    assert plan.image is not None
    node = make_node(name, workdir, plan=plan, knobs={"dnf": "fail", "efa_download": "fail"})
    for boot in (node.first_boot(), node.reboot(), node.stop_start()):
        check_ready(node, boot)
        assert not boot.node_calls("dnf"), boot.log
        assert not boot.node_calls("efa_installer.sh")
        downloads = [
            c for c in boot.node_calls("curl") if "169.254.169.254" not in " ".join(c.argv)
        ]
        assert not downloads, downloads
        assert any(
            s.startswith(f"hpc-constructs: image {plan.image.name}: image=") for s in boot.steps
        )


def golden_image_incomplete(name: str, workdir: Path) -> None:
    """An AMI that is not what the launcher was told (no manifest, no EFA software, no Lustre
    client): the node is gated out at once; nothing is installed in its place."""
    plan = boot_plan(name, golden=True)
    node = make_node(name, workdir, plan=plan, golden_image_complete=False, image_has_efa=False)
    boot = node.first_boot()
    check_gated_out(node, boot, "image: /etc/hpc-constructs/image-versions is missing")
    assert not boot.node_calls("dnf")
    # the manifest is there but the image lacks the EFA software
    node2 = make_node(name, workdir / "2", plan=plan, image_has_efa=False)
    check_gated_out(node2, node2.first_boot(), "lacks the EFA software")


def dnf_unreachable(name: str, workdir: Path) -> None:
    node = make_node(name, workdir, knobs={"dnf": "fail"})
    boot = node.first_boot()
    check_gated_out(
        node, boot, "Lustre client: mount.lustre is missing; dnf install -y lustre-client failed"
    )
    installs = [c.argv[-1] for c in boot.node_calls("dnf")]
    assert installs.count("lustre-client") == 5
    # no agent is no reason to take the node out of service: three attempts, then on
    assert installs.count("amazon-cloudwatch-agent") == 3
    assert "telemetry: the CloudWatch agent could not be installed" in boot.log


def dnf_flaky(name: str, workdir: Path) -> None:
    node = make_node(name, workdir, knobs={"dnf": "flaky", "efa_download": "flaky"})
    check_ready(node, node.first_boot())
    assert "lustre-client" in node.packages()


def fewer_disks(name: str, workdir: Path) -> None:
    plan = boot_plan(name)
    node = make_node(name, workdir, instance_store_disks=plan.instance_store_disks - 1)
    boot = node.first_boot()
    n = plan.instance_store_disks
    check_gated_out(
        node, boot, f"instance store: expected {n} NVMe instance-store disks, found {n - 1}"
    )
    assert not boot.node_calls("mdadm")
    assert boot.mounted("/scratch/local") is None


def root_between(name: str, workdir: Path) -> None:
    """The EBS root enumerated between instance-store disks: it never joins the array."""
    node = make_node(name, workdir, root_position=2)
    assert node.disks[2].kind == "root"
    check_ready(node, node.first_boot())
    check_ready(node, node.stop_start())


def user_commands_fail(name: str, workdir: Path) -> None:
    node = make_node(name, workdir, user_commands=("echo about to fail", "exit 3"))
    boot = node.first_boot()
    check_gated_out(node, boot, "user commands failed (exit 3)")
    assert "about to fail" in boot.log


def installer_asks_reboot(name: str, workdir: Path) -> None:
    """The EFA installer asks for a reboot: one reboot, the set-up resumes, then the gate."""
    node = make_node(name, workdir, knobs={"efa_installer": "reboot"})
    first = node.first_boot()
    assert first.status == 0, first.log
    assert first.reboot_requested
    assert any("rebooting once" in s for s in first.steps)
    assert first.lifecycle_results == []
    assert not first.masked
    assert user_command_runs(node) == 0
    assert not first.setup_done
    second = node.reboot()
    check_ready(node, second, continues=True)
    assert not second.reboot_requested


def provider_after_reboot(name: str, workdir: Path) -> None:
    """No efa provider right after the install: one reboot, then it works."""
    node = make_node(name, workdir, knobs={"efa_provider": "after-reboot"})
    first = node.first_boot()
    assert first.reboot_requested
    assert any("no efa provider right after the install" in s for s in first.steps)
    check_ready(node, node.reboot(), continues=True)


def provider_missing(name: str, workdir: Path) -> None:
    """No efa provider even after the one reboot: gated out, no reboot loop."""
    node = make_node(name, workdir, knobs={"efa_provider": "missing"})
    assert node.first_boot().reboot_requested
    boot = node.reboot()
    check_gated_out(node, boot, "libfabric has no efa provider")
    assert not boot.reboot_requested


def udev_assembles(name: str, workdir: Path) -> None:
    """udev assembled the array before the set-up ran: used as it is."""
    node = make_node(name, workdir, knobs={"udev_assemble": "1"})
    check_ready(node, node.first_boot())
    boot = node.reboot()
    check_ready(node, boot)
    assert any("array assembled at boot" in s for s in boot.steps), boot.steps
    assert not boot.node_calls("mdadm", "unit:hpc-node-setup.service") or all(
        c.argv[1] == "--detail" for c in boot.node_calls("mdadm")
    )


def gate_off(name: str, workdir: Path) -> None:
    """health_gate=False: a failure is logged, nothing is reported or stopped."""
    node = make_node(
        name, workdir, plan=boot_plan(name, gate=False), knobs={"efa_download": "fail"}
    )
    boot = node.first_boot()
    check_gated_out(node, boot, "EFA installer: download of")
    # the failure is still counted (BootFailures), but the Auto Scaling group is not told
    assert not [c for c in boot.node_calls("aws") if not is_boot_metric(c)]
    assert node.plan is not None
    assert node.plan.telemetry is not None
    assert f"BootFailures NodeGroup={node.plan.telemetry.node_group}" in boot_metrics(node)
    assert not boot.masked
    assert not boot.powered_off


def describe_retried(name: str, workdir: Path) -> None:
    """A throttled DescribeAutoScalingInstances, retried: the healthy node still CONTINUEs."""
    node = make_node(name, workdir, knobs={"aws_describe_failures": "1"})
    check_ready(node, node.first_boot())


SCENARIOS: dict[str, tuple[Callable[[str, Path], None], tuple[str, ...]]] = {
    "lifecycle": (lifecycle, tuple(PLANS)),
    "efa-download-fails": (efa_download_fails, ("fleet-c5n", "batch-c5n", "pcs-hpc6id")),
    "efa-archive-corrupt": (efa_archive_corrupt, ("fleet-c5n",)),
    "efa-device-missing": (efa_device_missing, ("fleet-hpc7a", "fleet-p5", "batch-p4d")),
    "lustre-unreachable": (lustre_unreachable, ("fleet-hpc7a", "pcs-hpc6id")),
    "lustre-unreachable-later": (lustre_unreachable_later, ("fleet-hpc7a",)),
    "lustre-module-fails": (lustre_module_fails, ("fleet-c5n",)),
    "dnf-unreachable": (dnf_unreachable, ("fleet-hpc7a",)),
    "dnf-flaky": (dnf_flaky, ("fleet-hpc7a",)),
    "fewer-disks": (fewer_disks, ("fleet-i4i",)),
    "root-between": (root_between, ("fleet-i4i", "batch-p4d")),
    "user-commands-fail": (user_commands_fail, ("fleet-c5n", "pcs-hpc6id")),
    "installer-asks-reboot": (installer_asks_reboot, ("fleet-c5n", "batch-c5n")),
    "provider-after-reboot": (provider_after_reboot, ("fleet-hpc7a",)),
    "provider-missing": (provider_missing, ("fleet-c5n",)),
    "udev-assembles": (udev_assembles, ("fleet-hpc6id",)),
    "gate-off": (gate_off, ("fleet-c5n",)),
    "golden-lifecycle": (golden_lifecycle, ("fleet-hpc6id", "batch-p4d", "pcs-hpc6id")),
    "golden-image-incomplete": (golden_image_incomplete, ("fleet-c5n",)),
    "describe-retried": (describe_retried, ("fleet-c5n",)),
}
#: Scenarios that show a known bug in the generated scripts (see the test's reason).
KNOWN_BUGS: dict[str, str] = {}
CASES = [(s, p) for s, (_, plans) in SCENARIOS.items() for p in plans]


def cache_key(scenario: str, plan: str, sources: str) -> str:
    """A passed scenario is not run again while the generated scripts, the scenario and the
    harness stay the same (HPC_SANDBOX_NO_CACHE=1 or --cache-clear runs them all)."""
    digest = hashlib.sha256(f"{scenario}\0{plan}\0{sources}".encode())
    for gate, golden in ((True, False), (False, False), (True, True)):
        p = boot_plan(plan, gate=gate, golden=golden)
        digest.update(repr(p).encode() + node_setup_script(p).encode())
        digest.update("\n".join(make_user_data(p, USER_COMMANDS)).encode())
    return f"hpc-constructs/boot-sandbox/{digest.hexdigest()}"


@pytest.fixture(scope="module")
def runner(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScenarioRunner]:
    run = ScenarioRunner.for_module(
        request, tmp_path_factory, SCENARIOS, cache_key, "hpc_constructs/boot", prefix=""
    )
    yield run
    run.shutdown()


@pytest.mark.parametrize(
    ("scenario", "plan"),
    [
        pytest.param(
            s,
            p,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[s])] if s in KNOWN_BUGS else [],
        )
        for s, p in CASES
    ],
    ids=[f"{s}-{p}" for s, p in CASES],
)
@needs_namespaces
def test_boot_scenario(scenario: str, plan: str, runner: ScenarioRunner) -> None:
    runner.result(scenario, plan)


@pytest.mark.parametrize("name", list(PLANS))
def test_shellcheck(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """No shellcheck finding at warning level in the user data or the set-up (a text that
    passed is remembered in the pytest cache by its content)."""
    plan = boot_plan(name)
    texts = {
        "user-data.sh": "#!/bin/bash\n" + "\n".join(make_user_data(plan, USER_COMMANDS)) + "\n",
        "node-setup.sh": node_setup_script(plan),
    }
    assert_shellcheck_clean(texts, tmp_path, getattr(request.config, "cache", None))
