"""Run the generated boot scripts for real, in a sandboxed fake EC2 node.

A :class:`SandboxNode` is one instance: its *root volume* is a directory (``/etc``, ``/var``,
``/opt``, ``/home``, ``/sim``...) that persists across its boots. Every boot
(:meth:`~SandboxNode.first_boot`, :meth:`~SandboxNode.reboot`, :meth:`~SandboxNode.stop_start`)
starts ``enter.sh`` under ``unshare --user --map-root-user --mount --pid --fork``: it bind-mounts
the host's ``/usr``, ``/bin``, ``/lib``... read-only into the root, mounts a fresh ``/run``,
``/tmp``, ``/dev`` and ``/sys`` (tmpfs) and ``/proc``, and chroots into
``shims/libexec/sim-boot``. That script plays kernel, udev, systemd and cloud-init: it creates
the fake devices (``/dev/nvme*n1`` files, ``/dev/infiniband/uverbs*``, the ``/dev/sdf``
symlink, ``/sys/class/block/*/holders``), handles ``/etc/fstab`` like systemd on a later boot
(automount points for ``x-systemd.automount``, a mount for the rest), runs the boot's actions
(the user data on the first boot, the enabled ``/etc/systemd/system`` units on later boots, or
``node-setup`` again for a re-run), then records what systemd would start next (units with
our drop-in), the modes of the paths asked for and the boot's results in ``/sim/boot``.

The commands the scripts call that touch the machine or AWS are shims (``shims/bin``, first
on ``PATH``); coreutils, awk, grep, sed, find, flock stay real. Each shim logs its arguments
to ``/sim/calls.log`` and keeps its state in ``/sim`` (layout in ``shims/lib/sim.sh``): the
mount table (emptied at every boot; a mount bind-mounts the file system's own directory, so
modes are real), file systems and RAID superblocks per disk (a stop/start wipes the instance
store's), running arrays, the Auto Scaling state, installed packages. A shim fails loudly
(exit 97, ``/sim/unsupported.log``) on an argument shape it does not model, and the harness
turns that into :class:`SandboxError`.

Knobs (``SandboxNode(knobs=...)`` or ``node.knobs[...] = ...`` before a boot) are files in
``/sim/knobs`` the shims read: ``imds`` (ok|down), ``efa_download`` (ok|fail|corrupt|flaky),
``efa_installer`` (ok|fail|reboot), ``efa_provider`` (ok|missing|after-reboot), ``dnf``
(ok|fail|flaky), ``lustre_module`` (ok|fail), ``fs_unreachable`` (lustre, efs or both, comma
separated), ``udev_assemble`` (0|1: arrays assembled by udev before the set-up), ``aws``
(ok|down), ``aws_describe_failures`` (N), ``kernel``, ``instance_id``, ``region``; for the image
build (:class:`SandboxBuildHost`): ``kernel_upgrade`` (the kernel ``dnf upgrade -y`` installs,
booted at the next boot), ``efa_key_fingerprint`` (of the key served as
``aws-efa-installer.key``), ``efa_signature`` (ok|bad), ``efa_module`` (ok|missing: ``modinfo
efa``), ``pcs_tarball`` (ok|tampered: the PCS installers' bytes differ from what the tests
pin), ``pcs_installer`` (ok|fail), ``download_failures`` (N: the first N attempts of each
download fail), ``ldconfig_extra`` (N more entries in ``ldconfig -p``: a big base's cache).

A :class:`SandboxBuildHost` is an EC2 Image Builder build (and test) instance: the same root
volume and namespaces, but ``enter.sh`` runs ``shims/libexec/sim-build``, which runs a list of
step scripts in order, as AWSTOE does, and stops at the first that fails. A ``Reboot`` step
ends the boot; the steps after it run in the next one (where ``uname -r`` reports the kernel
the upgrade installed).

To add a shim: a bash script in ``shims/bin`` that sources ``/.shims/lib/sim.sh``, calls
``sim_log NAME "$@"``, reads its knobs with ``knob NAME DEFAULT`` and calls ``unsupported`` for
anything else. To add a knob: read it in the shim and list it above. To add a scenario: a
function in ``tests/test_boot_sandbox.py`` that builds a node, boots it and asserts on the
:class:`Boot` results; register it in that module's scenario table.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from hpc_constructs.boot import BootPlan, user_data_script

HERE = Path(__file__).resolve().parent
SHIMS_SOURCE = HERE / "shims"
ENTER = HERE / "enter.sh"

EBS_MODEL = "Amazon Elastic Block Store"
INSTANCE_STORE_MODEL = "Amazon EC2 NVMe Instance Storage"
BOOT_LOG = "var/log/hpc-constructs-boot.log"
BOOT_TIMEOUT_SECONDS = 120
UNSHARE = ("unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child")


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the script under test)."""


@cache
def namespaces_unavailable() -> str | None:
    """Why unprivileged namespaces cannot run here, or ``None`` when they can."""
    if shutil.which("unshare") is None or shutil.which("chroot") is None:
        return "unshare or chroot not found"
    try:
        probe = subprocess.run(
            [*UNSHARE, "/bin/sh", "-c", "mount -t tmpfs tmpfs /tmp && mount -t proc proc /proc"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if probe.returncode != 0:
        return f"the kernel forbids unprivileged namespaces: {probe.stderr.strip()}"
    return None


def build_shims(dest: Path) -> Path:
    """Copy the shims to ``dest`` with their execute bits (once per session)."""
    shutil.copytree(SHIMS_SOURCE, dest, dirs_exist_ok=True)
    for path in dest.rglob("*"):
        if path.is_file():
            path.chmod(0o755)
    dev = dest / "dev"  # the links every boot's fresh /dev starts with
    dev.mkdir(exist_ok=True)
    (dev / "shm").mkdir(mode=0o1777, exist_ok=True)
    (dev / "shm").chmod(0o1777)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):  # fmt: skip
        if not (dev / name).is_symlink():
            (dev / name).symlink_to(target)
    return dest


@cache
def session_shims() -> Path:
    """A shim directory shared by every node of this process (removed at exit)."""
    import atexit

    root = Path(tempfile.mkdtemp(prefix="hpc-sandbox-shims-"))
    atexit.register(shutil.rmtree, root, True)
    return build_shims(root / "shims")


def copy_host_etc(root: Path) -> None:
    """What the host's tools need from /etc (awk is /etc/alternatives/awk on Debian)."""
    for name in ("alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd",
                 "group", "nsswitch.conf", "localtime"):  # fmt: skip
        host = Path("/etc") / name
        if host.is_dir() and not host.is_symlink():
            shutil.copytree(host, root / "etc" / name, symlinks=True, dirs_exist_ok=True)
        elif host.exists() or host.is_symlink():
            shutil.copy(host, root / "etc" / name, follow_symlinks=False)


def read_calls(calls_log: Path, offset: int = 0) -> list[Call]:
    """The shim calls logged in ``calls_log`` after ``offset`` bytes."""
    with open(calls_log, "rb") as fh:
        fh.seek(offset)
        lines = fh.read().decode(errors="replace").splitlines()
    calls = []
    for line in lines:
        _, phase, caller, *argv = line.split("\t")
        argv = [a.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\") for a in argv]
        calls.append(Call(phase, caller, tuple(argv)))
    return calls


@dataclass(frozen=True)
class Disk:
    name: str  # nvme0n1
    kind: str  # root | instance-store | ebs

    @property
    def model(self) -> str:
        return INSTANCE_STORE_MODEL if self.kind == "instance-store" else EBS_MODEL


@dataclass(frozen=True)
class Call:
    phase: str  # boot | user-data | unit:NAME | setup
    caller: str  # node | systemd | udev | automount | image | kernel
    argv: tuple[str, ...]

    @property
    def command(self) -> str:
        return self.argv[0]

    def option(self, name: str) -> str | None:
        args = self.argv
        for i, arg in enumerate(args[:-1]):
            if arg == name:
                return args[i + 1]
        return None


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    fstype: str
    options: str


@dataclass
class Boot:
    """What one boot did, read from ``/sim`` after it ended."""

    number: int
    kind: str  # first | reboot | stop-start
    statuses: dict[str, str]  # action -> exit status ("0", "1", "skipped")
    outputs: dict[str, str]
    log: str  # the lines this boot added to /var/log/hpc-constructs-boot.log
    calls: list[Call]
    mounts: list[Mount]
    arrays: dict[str, tuple[str, tuple[str, ...]]]  # md127 -> (name, members)
    events: list[str]  # reboot | power-off
    services: dict[str, str]  # ecs -> started | masked | dependency-failed | going-down
    modes: dict[str, str]  # path -> "1777" | "missing"
    emergency: bool
    setup_done: bool

    @property
    def status(self) -> int | None:
        """Exit status of the boot's main action (user data, or the set-up unit)."""
        for action, value in self.statuses.items():
            if action != "setup":
                return None if value == "skipped" else int(value)
        return None

    @property
    def rerun_status(self) -> int | None:
        value = self.statuses.get("setup")
        return None if value is None else int(value)

    def node_calls(self, command: str | None = None, phase: str | None = None) -> list[Call]:
        """Calls made by the node's scripts (not by the simulated kernel, udev or image)."""
        return [
            c
            for c in self.calls
            if c.caller == "node"
            and (command is None or c.command == command)
            and (phase is None or c.phase == phase)
        ]

    @property
    def steps(self) -> list[str]:
        return [line for line in self.log.splitlines() if line.startswith("hpc-constructs: ")]

    @property
    def failures(self) -> list[str]:
        return [line for line in self.steps if line.startswith("hpc-constructs: FAILED: ")]

    @property
    def lifecycle_results(self) -> list[str]:
        return [
            c.option("--lifecycle-action-result") or ""
            for c in self.node_calls("aws")
            if "complete-lifecycle-action" in c.argv
        ]

    @property
    def health_reports(self) -> list[str]:
        return [
            c.option("--health-status") or ""
            for c in self.node_calls("aws")
            if "set-instance-health" in c.argv
        ]

    @property
    def masked(self) -> list[str]:
        return [
            u
            for c in self.node_calls("systemctl")
            if "mask" in c.argv
            for u in c.argv[1:]
            if not u.startswith("-") and u != "mask"
        ]

    @property
    def powered_off(self) -> bool:
        return "power-off" in self.events

    @property
    def reboot_requested(self) -> bool:
        return "reboot" in self.events

    def mounted(self, target: str) -> Mount | None:
        found = [m for m in self.mounts if m.target == target and m.fstype != "autofs"]
        return found[-1] if found else None

    def mount_attempts(self, target: str, phase: str | None = None) -> int:
        """``mount`` calls for ``target`` (by the scripts, or triggered by an automount)."""
        return sum(
            1
            for c in self.calls
            if c.command == "mount"
            and c.caller in ("node", "automount")
            and (phase is None or c.phase == phase)
            and target in c.argv[1:]
        )


@dataclass
class SandboxNode:
    """One fake EC2 instance running the boot scripts of ``plan_or_user_data``.

    ``plan_or_user_data``: a :class:`BootPlan` (its user data is generated with
    ``user_commands``), or the user-data lines themselves (then give the hardware).
    ``instance_store_disks`` / ``efa_devices``: what the instance actually has (default: what
    the plan expects). ``root_position``: index of the EBS root among the NVMe disks (the
    instance store may be enumerated before it). ``image_has_efa``: the image ships the EFA
    software (default: when the plan does not install it). ``image_owns_instance_store``: the
    image assembles the instance store itself (as the DLAMI does) at that mount point.
    """

    plan_or_user_data: BootPlan | Sequence[str]
    workdir: Path
    user_commands: Sequence[str] = ()
    instance_store_disks: int | None = None
    efa_devices: int | None = None
    root_position: int = 0
    scratch_alias: str = "as-mapped"  # as-mapped | xvd | none
    image_has_efa: bool | None = None
    image_owns_instance_store: str | None = None
    #: For a plan on a golden image (``plan.image``): the image has everything it claims.
    golden_image_complete: bool = True
    asg_state: str = "Pending:Wait"
    knobs: dict[str, str] = field(default_factory=dict)
    stat_paths: Sequence[str] = ()
    shims: Path | None = None
    boots: list[Boot] = field(default_factory=list, init=False)
    terminated: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        plan = self.plan
        if isinstance(self.plan_or_user_data, BootPlan):
            self.user_data = list(user_data_script(self.plan_or_user_data, self.user_commands))
        else:
            self.user_data = list(self.plan_or_user_data)
        if self.instance_store_disks is None:
            self.instance_store_disks = plan.instance_store_disks if plan else 0
        if self.efa_devices is None:
            self.efa_devices = plan.efa_devices if plan else 0
        if self.image_has_efa is None:
            self.image_has_efa = bool(plan and plan.efa_devices and not plan.install_efa)
        self.root = self.workdir / "root"
        self._create_root_volume()

    @property
    def plan(self) -> BootPlan | None:
        return self.plan_or_user_data if isinstance(self.plan_or_user_data, BootPlan) else None

    # --- hardware ---------------------------------------------------------------------------

    @property
    def disks(self) -> list[Disk]:
        store = [Disk("", "instance-store") for _ in range(self.instance_store_disks or 0)]
        ordered = [*store[: self.root_position], Disk("", "root"), *store[self.root_position :]]
        plan = self.plan
        if plan and plan.scratch:
            ordered.append(Disk("", "ebs"))
        return [Disk(f"nvme{i}n1", d.kind) for i, d in enumerate(ordered)]

    def _aliases(self) -> list[str]:
        plan = self.plan
        if not plan or not plan.scratch or self.scratch_alias == "none":
            return []
        name = plan.scratch.device_name
        if self.scratch_alias == "xvd":
            name = name.replace("/dev/sd", "/dev/xvd")
        ebs = next(d for d in self.disks if d.kind == "ebs")
        return [f"{name}={ebs.name}"]

    # --- the root volume --------------------------------------------------------------------

    def _create_root_volume(self) -> None:
        root = self.root
        for d in ("etc/systemd/system", "var/log", "var/lib/cloud/instance/scripts", "opt",
                  "home/ec2-user", "root", "sim/state", "sim/knobs", "sim/boot"):  # fmt: skip
            (root / d).mkdir(parents=True, exist_ok=True)
        (root / "var/tmp").mkdir(mode=0o1777, exist_ok=True)
        (root / "var/tmp").chmod(0o1777)
        root_dev = f"/dev/{next(d for d in self.disks if d.kind == 'root').name}p1"
        (root / "etc/fstab").write_text(
            f"UUID=0f1e2d3c-aaaa-4bbb-8ccc-000000000001     /           xfs    defaults,noatime  1   1\n"
            f"# {root_dev} at boot\n"
        )
        copy_host_etc(root)
        (root / "etc/os-release").write_text('NAME="Amazon Linux"\nVERSION_ID="2023"\n')
        (root / "etc/hostname").write_text("ip-10-0-0-10.ec2.internal\n")
        (root / "sim/state/asg").write_text(f"hpc-fleet-asg {self.asg_state}\n")
        (root / "sim/calls.log").write_text("")
        image = self.plan.image if self.plan else None
        if image is not None and self.golden_image_complete:
            # What an HpcImage bakes in: the clients, the agent and the version manifest.
            sbin = root / ".usr-local/sbin"  # the node's /usr/local (enter.sh)
            sbin.mkdir(parents=True, exist_ok=True)
            for helper in ("mount.lustre", "mount.efs"):
                (sbin / helper).write_text('#!/bin/bash\necho "sandbox: use mount" >&2\nexit 1\n')
                (sbin / helper).chmod(0o755)
            agent = root / "opt/aws/amazon-cloudwatch-agent/bin"
            agent.mkdir(parents=True)
            shutil.copy(SHIMS_SOURCE / "libexec/amazon-cloudwatch-agent-ctl", agent)
            manifest = root / "etc/hpc-constructs/image-versions"
            manifest.parent.mkdir(parents=True)
            manifest.write_text(f"image={image.name}\nefa-installer=1.50.0\nkernel=6.1.0\n")
        if self.image_has_efa:
            efa_bin = root / "opt/amazon/efa/bin"
            efa_bin.mkdir(parents=True)
            shutil.copy(SHIMS_SOURCE / "libexec/fi_info", efa_bin / "fi_info")
            (efa_bin / "fi_info").chmod(0o755)
        script = root / "var/lib/cloud/instance/scripts/part-001"
        script.write_text("#!/bin/bash\n" + "\n".join(self.user_data) + "\n")
        script.chmod(0o700)

    def file(self, path: str) -> Path:
        """A file on the node's root volume (``/etc/fstab`` -> its host path)."""
        return self.root / path.lstrip("/")

    def fstab_lines(self) -> list[str]:
        text = self.file("/etc/fstab").read_text()
        return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]

    def packages(self) -> list[str]:
        path = self.file("/sim/state/packages")
        return path.read_text().split() if path.exists() else []

    def lifecycle_state(self) -> str:
        """The node's Auto Scaling lifecycle state (Pending:Wait, InService, Terminating)."""
        return self.file("/sim/state/asg").read_text().split()[1]

    # --- boots ------------------------------------------------------------------------------

    def first_boot(self, *, rerun: bool = False) -> Boot:
        """The launch: cloud-init runs the user data (``rerun``: then ``node-setup`` again)."""
        if self.boots:
            raise SandboxError("first_boot() runs once per node")
        return self._boot("first", ["user-data", *(["setup"] if rerun else [])])

    def reboot(self, *, rerun: bool = False) -> Boot:
        """A reboot: fresh /run, /tmp, /dev, an empty mount table; enabled units run."""
        return self._boot("reboot", ["units", *(["setup"] if rerun else [])])

    def stop_start(self, *, rerun: bool = False) -> Boot:
        """A stop and start: as a reboot, on new instance-store disks (empty)."""
        self._wipe_instance_store()
        return self._boot("stop-start", ["units", *(["setup"] if rerun else [])])

    def _wipe_instance_store(self) -> None:
        disks_dir = self.file("/sim/disks")
        for disk in self.disks:
            if disk.kind != "instance-store":
                continue
            md = disks_dir / disk.name / "md"
            if md.exists():
                uuid = md.read_text().split()[1]
                shutil.rmtree(disks_dir / f"md-{uuid}", ignore_errors=True)
                shutil.rmtree(self.file(f"/sim/fsdata/md-{uuid}"), ignore_errors=True)
            shutil.rmtree(disks_dir / disk.name, ignore_errors=True)
            shutil.rmtree(self.file(f"/sim/fsdata/{disk.name}"), ignore_errors=True)

    def _stat_paths(self) -> list[str]:
        paths = list(self.stat_paths)
        plan = self.plan
        if plan:
            if plan.instance_store_disks:
                paths.append("/scratch/local")
            if plan.scratch:
                paths.append(plan.scratch.mount_point)
            paths += [m.mount_point for m in plan.mounts]
        return list(dict.fromkeys(paths))

    def _boot(self, kind: str, actions: Iterable[str]) -> Boot:
        if self.terminated:
            raise SandboxError("the node was terminated (powered off or replaced)")
        number = len(self.boots) + 1
        sim = self.file("/sim")
        shutil.rmtree(sim / "boot", ignore_errors=True)
        (sim / "boot").mkdir()
        shutil.rmtree(sim / "knobs", ignore_errors=True)
        (sim / "knobs").mkdir()
        for name, value in self.knobs.items():
            (sim / "knobs" / name).write_text(f"{value}\n")
        disks = self.disks
        (sim / "boot/disks").write_text("".join(f"{d.name}\t{d.model}\n" for d in disks))
        plan_vars: Mapping[str, str | int] = {
            "SIM_BOOT": number,
            "BOOT_KIND": "first" if kind == "first" else "reboot",
            "ACTIONS": " ".join(actions),
            "STAT_PATHS": " ".join(self._stat_paths()),
            "EFA_DEVICES": self.efa_devices or 0,
            "ROOT_DISK": next(d for d in disks if d.kind == "root").name,
            "ALIASES": " ".join(self._aliases()),
            "IMAGE_STORAGE": self.image_owns_instance_store or "",
        }
        (sim / "boot/plan").write_text("".join(f"{k}='{v}'\n" for k, v in plan_vars.items()))
        log = self.file(BOOT_LOG)
        log_offset = log.stat().st_size if log.exists() else 0
        calls_offset = (sim / "calls.log").stat().st_size
        shims = self.shims or session_shims()
        try:
            proc = subprocess.run(
                [*UNSHARE, "/bin/bash", str(ENTER), str(self.root), str(shims)],
                capture_output=True,
                text=True,
                timeout=BOOT_TIMEOUT_SECONDS,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C"},
            )
        except subprocess.TimeoutExpired as exc:
            raise SandboxError(f"boot {number} timed out after {BOOT_TIMEOUT_SECONDS} s") from exc
        if proc.returncode != 0:
            raise SandboxError(f"boot {number}: the sandbox failed: {proc.stderr.strip()}")
        unsupported = sim / "unsupported.log"
        if unsupported.exists() and unsupported.read_text().strip():
            raise SandboxError(f"shim calls the sandbox does not model: {unsupported.read_text()}")
        boot = self._read_boot(number, kind, log, log_offset, calls_offset)
        self.boots.append(boot)
        if boot.powered_off or self.lifecycle_state() == "Terminating":
            self.terminated = True
        return boot

    def _read_boot(
        self, number: int, kind: str, log: Path, log_offset: int, calls_offset: int
    ) -> Boot:
        sim = self.file("/sim")
        boot_dir = sim / "boot"

        def read(name: str) -> str:
            path = boot_dir / name
            return path.read_text(errors="replace") if path.exists() else ""

        statuses: dict[str, str] = {}
        outputs: dict[str, str] = {}
        for line in read("statuses").splitlines():
            action, value = line.split(" ", 1)
            statuses[action] = value
            outputs[action] = read(f"output.{action}")
        with open(sim / "calls.log", "rb") as fh:
            fh.seek(calls_offset)
            call_lines = fh.read().decode(errors="replace").splitlines()
        calls = []
        for line in call_lines:
            _, phase, caller, *argv = line.split("\t")
            argv = [a.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\") for a in argv]
            calls.append(Call(phase, caller, tuple(argv)))
        mounts = [Mount(*line.split("\t")) for line in read("mtab").splitlines() if line]
        arrays = {}
        for path in sorted((boot_dir / "arrays").glob("md*")):
            name, _, *members = path.read_text().split()
            arrays[path.name] = (name, tuple(members))
        log_text = ""
        if log.exists():
            with open(log, "rb") as fh:
                fh.seek(log_offset)
                log_text = fh.read().decode(errors="replace")
        return Boot(
            number=number,
            kind=kind,
            statuses=statuses,
            outputs=outputs,
            log=log_text,
            calls=calls,
            mounts=mounts,
            arrays=arrays,
            events=read("events").split(),
            services=dict(line.split(" ", 1) for line in read("services").splitlines()),
            modes=dict(line.split(" ", 1) for line in read("modes").splitlines()),
            emergency=(boot_dir / "emergency").exists(),
            setup_done=(boot_dir / "setup-done").exists(),
        )


# --- image builds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRun:
    """One step of a build host: its exit status (``None``: not run, an earlier step failed)."""

    name: str
    boot: int
    status: int | None
    stdout: str
    stderr: str

    @property
    def failures(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if "FAILED: " in line]


#: A step for :meth:`SandboxBuildHost.run`: (name, the script), or (name, ``None``): a reboot.
BuildStep = tuple[str, str | None]


@dataclass
class SandboxBuildHost:
    """An EC2 Image Builder build instance: a root volume (as :class:`SandboxNode`'s) on which
    :meth:`run` executes step scripts, each a complete program, as AWSTOE runs them.

    ``files``: the base image's own files (path -> content) written on the root volume (a path
    under ``/usr/local`` lands on the root volume's ``/usr/local``). ``knobs``: see the module
    docstring; written before every boot.
    """

    workdir: Path
    knobs: dict[str, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    shims: Path | None = None
    boots: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.root = self.workdir / "root"
        root = self.root
        for d in ("etc", "var/log", "opt", "root", "sim/state", "sim/knobs", "sim/boot",
                  "sim/build/steps", ".usr-local"):  # fmt: skip
            (root / d).mkdir(parents=True, exist_ok=True)
        (root / "var/tmp").mkdir(mode=0o1777, exist_ok=True)
        (root / "var/tmp").chmod(0o1777)
        copy_host_etc(root)
        (root / "etc/os-release").write_text('NAME="Amazon Linux"\nVERSION_ID="2023"\n')
        (root / "sim/calls.log").write_text("")
        for path, content in self.files.items():
            self.file(path).parent.mkdir(parents=True, exist_ok=True)
            self.file(path).write_text(content)

    def file(self, path: str) -> Path:
        """A file on the root volume (``/usr/local/x`` -> its host path under ``.usr-local``)."""
        rel = path.lstrip("/")
        if rel == "usr/local" or rel.startswith("usr/local/"):
            rel = ".usr-local" + rel[len("usr/local") :]
        return self.root / rel

    def calls(self) -> list[Call]:
        return read_calls(self.file("/sim/calls.log"))

    def launch_copy(self, workdir: Path, **knobs: str) -> SandboxBuildHost:
        """A new instance from this host's root volume (an instance launched from the image
        it built), with this host's knobs and ``knobs``; its boots count on."""
        copy = SandboxBuildHost.__new__(SandboxBuildHost)
        copy.workdir, copy.knobs, copy.files = workdir, {**self.knobs, **knobs}, {}
        copy.shims, copy.boots, copy.root = self.shims, self.boots, workdir / "root"
        shutil.copytree(self.root, copy.root, symlinks=True)
        return copy

    def run(self, steps: Sequence[BuildStep]) -> list[StepRun]:
        """Runs ``steps`` in order, a reboot step ending the boot, until one fails: the steps
        that ran (and ``status=None`` for the rest)."""
        runs: list[StepRun] = []
        pending: list[tuple[str, str]] = []
        for i, (name, script) in enumerate(steps):
            if script is not None:
                pending.append((name, script))
            if script is None or i == len(steps) - 1:
                runs += self._boot(pending)
                pending = []
                if runs and runs[-1].status != 0:
                    break
                if script is None:
                    runs.append(StepRun(name, self.boots, 0, "", ""))
        ran = {r.name for r in runs}
        return runs + [StepRun(n, self.boots, None, "", "") for n, _ in steps if n not in ran]

    def _boot(self, steps: Sequence[tuple[str, str]]) -> list[StepRun]:
        self.boots += 1
        number = self.boots
        sim = self.file("/sim")
        for d in ("boot", "knobs", "build/steps"):
            shutil.rmtree(sim / d, ignore_errors=True)
            (sim / d).mkdir(parents=True)
        for name, value in self.knobs.items():
            (sim / "knobs" / name).write_text(f"{value}\n")
        names = []
        for name, script in steps:
            if "/" in name or name in names:
                raise SandboxError(f"step names must be unique file names: {name!r}")
            names.append(name)
            path = sim / "build/steps" / name
            path.write_text(script)
            path.chmod(0o700)
        (sim / "build/steps.list").write_text("".join(f"{n}\n" for n in names))
        (sim / "build/plan").write_text(f"SIM_BOOT='{number}'\n")
        shims = self.shims or session_shims()
        try:
            proc = subprocess.run(
                [
                    *UNSHARE,
                    "/bin/bash",
                    str(ENTER),
                    str(self.root),
                    str(shims),
                    "/.shims/libexec/sim-build",
                ],
                capture_output=True,
                text=True,
                timeout=BOOT_TIMEOUT_SECONDS,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C"},
            )
        except subprocess.TimeoutExpired as exc:
            raise SandboxError(
                f"build boot {number} timed out after {BOOT_TIMEOUT_SECONDS} s"
            ) from exc
        if proc.returncode != 0:
            raise SandboxError(f"build boot {number}: the sandbox failed: {proc.stderr.strip()}")
        unsupported = sim / "unsupported.log"
        if unsupported.exists() and unsupported.read_text().strip():
            raise SandboxError(f"shim calls the sandbox does not model: {unsupported.read_text()}")

        def read(name: str) -> str:
            path = sim / "boot" / name
            return path.read_text(errors="replace") if path.exists() else ""

        statuses = dict(line.split(" ", 1) for line in read("statuses").splitlines())

        return [
            StepRun(n, number, int(statuses[n]), read(f"{n}.out"), read(f"{n}.err"))
            for n in names
            if n in statuses
        ]
