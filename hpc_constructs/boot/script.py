"""The boot scripts of a :class:`~hpc_constructs.boot.plan.BootPlan`, as shell text.

The user data only installs three things and starts the first: ``/opt/hpc-constructs/node-setup``
(idempotent: it checks before it acts, so it runs at every boot), ``hpc-node-setup.service``
(runs it at every later boot, before ``ecs`` / ``slurmd`` where those must wait) and the
user's commands (run once, after the first successful set-up). Each step logs one line to
``/var/log/hpc-constructs-boot.log`` saying what it did or why it stopped; a failed step ends
the set-up and the health gate takes the node out of service.

The pieces are bash functions kept as templates with ``@NAME@`` placeholders (braces and
``$`` stay readable); :func:`_fill` substitutes them. Values may hold CloudFormation tokens
(a file system's DNS name): they become literal text at deploy time, inside quoted
here-documents, so the shell never expands them.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from hpc_constructs.boot.agent import AGENT_CONFIG_PATH, agent_config_text
from hpc_constructs.boot.plan import (
    DONE_MARKER,
    IMAGE_MANIFEST_PATH,
    INSTANCE_STORE_ARRAY,
    INSTANCE_STORE_MODEL,
    INSTANCE_STORE_MOUNT_POINT,
    LIFECYCLE_HOOK_NAME,
    LOG_PATH,
    SETUP_PATH,
    UNIT_NAME,
    BootPlan,
    ImageFacts,
    MountStep,
    ScratchStep,
)
from hpc_constructs.telemetry import (
    BOOT_FAILURES_METRIC,
    BOOT_SUCCESSES_METRIC,
    NODE_GROUP_DIMENSION,
    NODE_METRICS_NAMESPACE,
)

#: Where the EFA installer is published (EC2 User Guide, "Get started with EFA and MPI").
EFA_INSTALLER_URL = "https://efa-installer.amazonaws.com/aws-efa-installer-latest.tar.gz"
USER_COMMANDS_PATH = "/opt/hpc-constructs/user-commands"
STATE_DIR = "/var/lib/hpc-constructs"


def _fill(template: str, **values: str | int) -> str:
    for key, value in values.items():
        template = template.replace(f"@{key}@", str(value))
    if "@" in template.replace("\\@", ""):
        leftover = [w for w in template.split() if w.startswith("@") and w.endswith("@")]
        if leftover:  # pragma: no cover - a template bug
            raise ValueError(f"unfilled placeholders: {leftover}")
    return template


_HEADER = """\
#!/bin/bash
# hpc-constructs node set-up: @LAUNCHER@ (@TYPE@). Runs at every boot: from the user data on
# the first boot, from @UNIT@ on every later boot. Idempotent: each step checks first.
set -eo pipefail
mkdir -p /run/hpc-constructs @STATE@
exec 9>/run/hpc-constructs/setup.lock
flock 9
exec > >(tee -a @LOG@) 2>&1
step() { echo "hpc-constructs: $*"; }
fail() { echo "hpc-constructs: FAILED: $*" >&2; exit 1; }
# retry TRIES DELAY COMMAND...: until COMMAND succeeds, doubling the delay up to 60 s.
retry() {
  local tries=$1 delay=$2 n=1
  shift 2
  until "$@"; do
    [ "$n" -lt "$tries" ] || return 1
    # On stderr: a caller capturing the command's output must not read this line.
    step "attempt $n/$tries of '$*' failed; next in ${delay}s" >&2
    sleep "$delay"
    n=$((n + 1))
    delay=$((delay * 2))
    [ "$delay" -le 60 ] || delay=60
  done
}
"""

_GATE_LIFECYCLE_HOOK = """\
imds() {
  local token
  token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \\
    http://169.254.169.254/latest/api/token) || return 1
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}
# gate pass|fail REASON: end the launch lifecycle hook (CONTINUE / ABANDON) while the node is
# Pending:Wait; a later boot that fails marks the node Unhealthy so Auto Scaling replaces it.
gate() {
  local verdict=$1 reason=$2 instance region out group state result
  [ ! -e /run/hpc-constructs/gated ] || return 0
  touch /run/hpc-constructs/gated
  if ! instance=$(imds instance-id) || ! region=$(imds placement/region); then
    step "health gate: instance metadata unreachable ($verdict: $reason); the hook times out"
    return 0
  fi
  out=$(retry 5 5 aws autoscaling describe-auto-scaling-instances --region "$region" \\
    --instance-ids "$instance" --output text \\
    --query 'AutoScalingInstances[0].[AutoScalingGroupName,LifecycleState]') || out=""
  read -r group state <<<"$out" || true
  # The CLI prints None for an instance outside any Auto Scaling group.
  [ "$group" != None ] || group=""
  if [ "$state" = "Pending:Wait" ]; then
    result=CONTINUE
    [ "$verdict" = pass ] || result=ABANDON
    if retry 5 5 aws autoscaling complete-lifecycle-action --region "$region" \\
      --auto-scaling-group-name "$group" --lifecycle-hook-name @HOOK@ \\
      --instance-id "$instance" --lifecycle-action-result "$result"; then
      step "health gate: $result ($reason)"
    else
      step "health gate: could not send $result ($reason); the hook times out and abandons"
    fi
  elif [ "$verdict" = fail ] && [ -n "$group" ]; then
    if retry 5 5 aws autoscaling set-instance-health --region "$region" \\
      --instance-id "$instance" --health-status Unhealthy; then
      step "health gate: marked Unhealthy, Auto Scaling replaces the node ($reason)"
    else
      step "health gate: could not mark the node Unhealthy ($reason)"
    fi
  else
    step "health gate: $verdict ($reason); lifecycle state ${state:-unknown}"
  fi
}
"""

_GATE_POWER_OFF = """\
# gate pass|fail REASON: a failed set-up keeps @SERVICE@ from starting and powers the node off
# (the launch template terminates on shutdown), so @SERVICE_OWNER@ replaces it.
gate() {
  local verdict=$1 reason=$2
  [ ! -e /run/hpc-constructs/gated ] || return 0
  touch /run/hpc-constructs/gated
  if [ "$verdict" = pass ]; then
    step "health gate: pass ($reason)"
    return 0
  fi
  step "health gate: FAIL ($reason): @SERVICE@ masked, powering off"
  systemctl mask --now --no-block @SERVICE@ || step "could not mask @SERVICE@"
  shutdown -h now "hpc-constructs: node set-up failed" || step "could not power off"
}
"""

_GATE_NONE = """\
# gate pass|fail REASON: the health gate is off (health_gate=False): log only.
gate() {
  step "health gate off: $1 ($2); the node stays as it is"
}
"""

_TRAP = """\
on_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    boot_metric @FAILED@
    gate fail "node set-up failed (exit $rc)"
  fi
}
trap on_exit EXIT
rm -f @DONE@
step "set-up of @LAUNCHER@ (@TYPE@) on kernel $(uname -r)"
"""


def _gate(plan: BootPlan) -> str:
    if plan.gate == "lifecycle-hook":
        return _fill(_GATE_LIFECYCLE_HOOK, HOOK=LIFECYCLE_HOOK_NAME)
    if plan.gate == "ecs":
        return _fill(_GATE_POWER_OFF, SERVICE="ecs", SERVICE_OWNER="AWS Batch")
    if plan.gate == "slurmd":
        return _fill(_GATE_POWER_OFF, SERVICE="slurmd", SERVICE_OWNER="AWS PCS")
    return _GATE_NONE


_EFA_INSTALL = """\
install_efa() {
  local work
  work=$(mktemp -d)
  retry 5 10 curl -fsSL --retry 3 --retry-connrefused -o "$work/efa.tar.gz" @URL@ \\
    || fail "EFA installer: download of @URL@ failed (no route to it? use an image with the EFA software)"
  tar -xzf "$work/efa.tar.gz" -C "$work" \\
    || fail "EFA installer: the download is not a valid archive (truncated?)"
  if ! (cd "$work/aws-efa-installer" && ./efa_installer.sh -y) >"$work/install.log" 2>&1; then
    cat "$work/install.log"
    fail "EFA installer: efa_installer.sh failed (its log is above)"
  fi
  cat "$work/install.log"
  if grep -qi 'reboot' "$work/install.log"; then touch /run/hpc-constructs/efa-reboot-asked; fi
  rm -rf "$work"
  [ -x /opt/amazon/efa/bin/fi_info ] \\
    || fail "EFA installer: finished but /opt/amazon/efa/bin/fi_info is missing"
}
# The EC2 User Guide says to reboot when the installer asks for it. When it does, or when the
# provider is not usable right after an install (a new kernel module), reboot once: the unit
# resumes the set-up after the reboot, and the launch hook is still waiting.
efa_reboot_once() {
  [ ! -e @STATE@/efa-reboot-done ] || return 0
  touch @STATE@/efa-reboot-done
  step "EFA: $1; rebooting once, the set-up resumes after the reboot"
  systemctl reboot
  exit 0
}
"""

_EFA = """\
efa() {
  local found installed=0
  found=$( (ls /dev/infiniband/uverbs* 2>/dev/null || true) | wc -l)
  if [ "$found" -lt @DEVICES@ ]; then
    fail "EFA: expected @DEVICES@ EFA devices (/dev/infiniband/uverbs*), found $found: an interface is not attached as EFA or its driver did not load"
  fi
  if [ ! -x /opt/amazon/efa/bin/fi_info ]; then
    @MISSING@
  fi
  if [ -e /run/hpc-constructs/efa-reboot-asked ]; then efa_reboot_once "the installer asks for a reboot"; fi
  if ! /opt/amazon/efa/bin/fi_info -p efa -t FI_EP_RDM >/dev/null; then
    if [ "$installed" = 1 ]; then efa_reboot_once "no efa provider right after the install"; fi
    fail "EFA: $found devices but libfabric has no efa provider (fi_info -p efa): the EFA software does not work on this kernel ($(uname -r))"
  fi
  step "EFA: $found devices, libfabric efa provider ok ($(/opt/amazon/efa/bin/fi_info --version 2>/dev/null | head -1))"
}
efa
"""


def _efa(plan: BootPlan) -> str:
    if plan.efa_devices == 0:
        return ""
    if plan.image is not None:
        missing = (
            f'fail "EFA: the golden image {plan.image.name} lacks the EFA software '
            '(/opt/amazon/efa/bin/fi_info): rebuild it with efa=True"'
        )
        prefix = ""
    elif plan.install_efa:
        missing = 'step "EFA: software missing; installing it"\n    install_efa\n    installed=1'
        prefix = _fill(_EFA_INSTALL, URL=shlex.quote(EFA_INSTALLER_URL), STATE=STATE_DIR)
    else:
        missing = (
            'fail "EFA: /opt/amazon/efa/bin/fi_info is missing and install_efa_software is '
            'off: use an image with the EFA software or turn the install on"'
        )
        prefix = ""
    return prefix + _fill(_EFA, DEVICES=plan.efa_devices, MISSING=missing)


_INSTANCE_STORE = """\
# The NVMe instance store, striped (RAID 0) when there are several disks, xfs, mode 1777. It is
# empty after a stop/start, so it is re-created when its array or file system is gone; no
# fstab entry (a missing disk must not leave a directory on the root volume in its place).
instance_store() {
  local mount=@MOUNT@ disks=() dev="" why="" d holder
  if findmnt -rn -M "$mount" >/dev/null; then
    chmod 1777 "$mount"
    step "instance store: already mounted at $mount"
    return 0
  fi
  for _ in $(seq 1 60); do
    mapfile -t disks < <(lsblk -dpno NAME,MODEL | awk '/@MODEL@/ {print $1}' | sort)
    [ "${#disks[@]}" -lt @DISKS@ ] || break
    sleep 2
  done
  [ "${#disks[@]}" -ge @DISKS@ ] \\
    || fail "instance store: expected @DISKS@ NVMe instance-store disks, found ${#disks[@]}"
  for d in "${disks[@]}"; do
    holder=$(find "/sys/class/block/${d##*/}/holders" -mindepth 1 -maxdepth 1 -printf '%f\\n' \\
      2>/dev/null | head -1 || true)
    # grep reads all of mdadm's output: an early exit (grep -q) could fail the pipe under
    # pipefail and make our own array look like the image's.
    if [ -n "$holder" ] && mdadm --detail "/dev/$holder" 2>/dev/null | grep '@ARRAY@' >/dev/null; then
      dev="/dev/$holder"
      why="array assembled at boot"
    elif [ -n "$holder" ] || findmnt -rn -S "$d" >/dev/null; then
      step "instance store: $d is in use by the image (mounted or held by $holder); left alone"
      return 0
    fi
  done
@ASSEMBLE@
  if [ "$(blkid -s TYPE -o value "$dev" 2>/dev/null || true)" != xfs ]; then
    mkfs.xfs -f "$dev" >/dev/null
    why="$why, formatted xfs"
  fi
  mkdir -p "$mount"
  mount -o noatime "$dev" "$mount"
  chmod 1777 "$mount"
  step "instance store: ${#disks[@]} disk(s) as $dev ($why), mounted at $mount, mode 1777"
}
instance_store
"""

_ASSEMBLE = """\
  if [ -z "$dev" ] && [ "${#disks[@]}" -eq 1 ]; then
    dev="${disks[0]}"
    why="one disk"
  elif [ -z "$dev" ]; then
    if mdadm --assemble /dev/md/@ARRAY@ "${disks[@]}" >/dev/null 2>&1; then
      why="array re-assembled"
    else
      @MDADM@
      mdadm --create /dev/md/@ARRAY@ --name=@ARRAY@ --run --level=0 \\
        --raid-devices="${#disks[@]}" "${disks[@]}"
      why="array created (new or wiped disks)"
    fi
    dev=/dev/md/@ARRAY@
  fi"""


def _instance_store(disks: int, image: ImageFacts | None = None) -> str:
    """``disks``: the fewest instance-store disks a node of the plan has; it uses all it has."""
    if disks == 0:
        return ""
    mdadm = _installed_or(
        image,
        "command -v mdadm >/dev/null 2>&1",
        "mdadm",
        "instance store: mdadm is missing",
    )
    text = _INSTANCE_STORE.replace("@ASSEMBLE@", _ASSEMBLE.replace("@MDADM@", mdadm))
    return _fill(
        text,
        MOUNT=INSTANCE_STORE_MOUNT_POINT,
        MODEL=INSTANCE_STORE_MODEL,
        ARRAY=INSTANCE_STORE_ARRAY,
        DISKS=disks,
    )


_SCRATCH = """\
# @DESCRIPTION@ at @MOUNT@: an EBS volume (its data survives reboots and stop/start and is
# deleted with the instance), formatted once, mounted at every boot.
scratch_volume() {
  local mount=@MOUNT@ dev="" d why="existing file system"
  if findmnt -rn -M "$mount" >/dev/null; then
    step "scratch volume: already mounted at $mount"
    return 0
  fi
  for _ in $(seq 1 60); do
    for d in @DEVICE@ @ALIAS@; do [ -e "$d" ] && dev=$(readlink -f "$d"); done
    [ -z "$dev" ] || break
    sleep 2
  done
  [ -n "$dev" ] || fail "scratch volume: @DEVICE@ did not appear"
  if ! blkid "$dev" >/dev/null 2>&1; then
    mkfs.xfs "$dev" >/dev/null
    why="formatted xfs"
  fi
  mkdir -p "$mount"
  mount -o noatime "$dev" "$mount"
  chmod 1777 "$mount"
  step "scratch volume: $dev ($why) mounted at $mount, mode 1777"
}
scratch_volume
"""


def _scratch(step: ScratchStep | None) -> str:
    if step is None:
        return ""
    return _fill(
        _SCRATCH,
        DESCRIPTION=step.description,
        MOUNT=shlex.quote(step.mount_point),
        DEVICE=step.device_name,
        ALIAS=step.device_name.replace("/dev/sd", "/dev/xvd"),
    )


_MOUNT_HELPERS = """\
# mount_fs KIND SOURCE MOUNT_POINT FSTAB_LINE: the fstab line (replacing an older line for the
# same mount point), then mount with retries and back-off unless already mounted.
mounted() {
  local type
  type=$(findmnt -rn -M "$1" -o FSTYPE 2>/dev/null || true)
  [ -n "$type" ] && [ "$type" != autofs ]
}
try_mount() {
  mounted "$1" && return 0
  if findmnt -rn -M "$1" -t autofs >/dev/null 2>&1; then
    ls "$1" >/dev/null 2>&1 || true
  else
    mount "$1" || true
  fi
  mounted "$1"
}
mount_fs() {
  local kind=$1 source=$2 mount=$3 line=$4 fstab
  mkdir -p "$mount"
  fstab=$(awk -v m="$mount" '$2 != m' /etc/fstab)
  if ! grep -qxF "$line" /etc/fstab; then
    printf '%s\\n%s\\n' "$fstab" "$line" >/etc/fstab
    systemctl daemon-reload || true
  fi
  if mounted "$mount"; then
    step "$kind: $source already mounted at $mount"
    return 0
  fi
  retry 6 5 try_mount "$mount" \\
    || fail "$kind: $source not mounted at $mount after 6 attempts: is the file system available, and does its security group allow this node (@PORTS@)?"
  step "$kind: $source mounted at $mount"
}
"""

_LUSTRE_CLIENT = """\
lustre_client() {
  @LUSTRE_CLIENT@
  # The FSx for Lustre User Guide lists the Amazon Linux 2023 kernels its client supports: the
  # module must load on the running kernel, or every Lustre mount fails.
  modprobe lustre \\
    || fail "Lustre client: the lustre module does not load on kernel $(uname -r): use a kernel the FSx for Lustre User Guide lists for the client (update the kernel and reboot, or use an image with one)"
  step "Lustre client: module loaded on kernel $(uname -r)"
}
lustre_client
"""

_EFS_CLIENT = "@EFS_CLIENT@\n"


def _installed_or(image: ImageFacts | None, check: str, package: str, what: str) -> str:
    """``check`` or install ``package`` on a stock image; on a golden image nothing is
    installed at boot: a missing piece fails the set-up (the image is not what it claims)."""
    if image is not None:
        return f'{check} || fail "{what} from the golden image {image.name}"'
    install = f"dnf install -y {package}"
    return f'{check} || retry 5 10 {install} || fail "{what}; {install} failed"'


def _mounts(mounts: Sequence[MountStep], image: ImageFacts | None = None) -> str:
    if not mounts:
        return ""
    ports = "TCP 988 and 1018-1023 for Lustre, TCP 2049 for EFS"
    text = _fill(_MOUNT_HELPERS, PORTS=ports)
    if any(m.kind == "lustre" for m in mounts):
        text += _LUSTRE_CLIENT.replace(
            "@LUSTRE_CLIENT@",
            _installed_or(
                image,
                "command -v mount.lustre >/dev/null 2>&1",
                "lustre-client",
                "Lustre client: mount.lustre is missing",
            ),
        )
    if any(m.kind == "efs" for m in mounts):
        text += _EFS_CLIENT.replace(
            "@EFS_CLIENT@",
            _installed_or(
                image,
                "command -v mount.efs >/dev/null 2>&1",
                "amazon-efs-utils",
                "EFS client: mount.efs is missing",
            ),
        )
    for m in mounts:
        kind = "Lustre" if m.kind == "lustre" else "EFS"
        args = [kind, m.source, m.mount_point, m.fstab_line]
        text += "mount_fs " + " ".join(shlex.quote(a) for a in args) + "\n"
    return text


_FINISH = """\
touch @DONE@
if [ -s @USER@ ] && [ ! -e @STATE@/user-commands-done ]; then
  step "user commands: running (once, after the first successful set-up)"
  bash -eo pipefail @USER@ || fail "user commands failed (exit $?)"
  touch @STATE@/user-commands-done
fi
step "node ready"
boot_metric @SUCCEEDED@
gate pass "node set-up complete"
"""


_TELEMETRY = """\
# The CloudWatch agent ships this log and the node's metrics (@GROUP@). A node without it still
# works: a failed install or start is logged and the set-up goes on.
boot_metric() {
  local region
  region=$(curl -fsS -H "X-aws-ec2-metadata-token: $(curl -fsS -X PUT \\
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)" \\
    http://169.254.169.254/latest/meta-data/placement/region) || return 0
  aws cloudwatch put-metric-data --region "$region" --namespace @NAMESPACE@ \\
    --metric-name "$1" --dimensions @DIMENSION@=@GROUP@ --value 1 --unit Count \\
    || step "telemetry: could not publish $1"
}
telemetry() {
  local ctl=/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl
  if [ ! -x "$ctl" ] && ! @AGENT_INSTALL@; then
    step "telemetry: the CloudWatch agent @AGENT_MISSING@; no logs or metrics from this node"
    return 0
  fi
  if "$ctl" -a fetch-config -m ec2 -s -c file:@CONFIG@ >/dev/null 2>&1; then
    step "telemetry: CloudWatch agent running (logs and metrics of @GROUP@)"
  else
    step "telemetry: the CloudWatch agent did not start; no logs or metrics from this node"
  fi
}
telemetry
"""


def _telemetry(plan: BootPlan) -> str:
    step = plan.telemetry
    if step is None:
        return "boot_metric() { :; }\n"
    golden = plan.image is not None
    return _fill(
        _TELEMETRY,
        AGENT_INSTALL="false" if golden else "retry 3 10 dnf install -y amazon-cloudwatch-agent",
        AGENT_MISSING="is not on the golden image" if golden else "could not be installed",
        GROUP=shlex.quote(step.node_group),
        NAMESPACE=NODE_METRICS_NAMESPACE,
        DIMENSION=NODE_GROUP_DIMENSION,
        CONFIG=AGENT_CONFIG_PATH,
    )


_IMAGE = """\
# The golden image @NAME@: nothing is installed at boot; its manifest names what it holds.
[ -s @MANIFEST@ ] \\
  || fail "image: @MANIFEST@ is missing: this node runs an AMI that @NAME@ did not build"
step "image @NAME@: $(tr '\\n' ' ' <@MANIFEST@)"
"""


def _image(image: ImageFacts | None) -> str:
    if image is None:
        return ""
    return _fill(_IMAGE, NAME=image.name, MANIFEST=IMAGE_MANIFEST_PATH)


def node_setup_script(plan: BootPlan) -> str:
    """The idempotent set-up a node runs at every boot."""
    header = _fill(
        _HEADER,
        LAUNCHER=plan.launcher,
        TYPE=plan.instance_type,
        UNIT=UNIT_NAME,
        STATE=STATE_DIR,
        LOG=LOG_PATH,
    )
    trap = _fill(
        _TRAP,
        DONE=DONE_MARKER,
        LAUNCHER=plan.launcher,
        TYPE=plan.instance_type,
        FAILED=BOOT_FAILURES_METRIC,
    )
    finish = _fill(
        _FINISH,
        DONE=DONE_MARKER,
        USER=USER_COMMANDS_PATH,
        STATE=STATE_DIR,
        SUCCEEDED=BOOT_SUCCESSES_METRIC,
    )
    return "".join(
        [
            header,
            _gate(plan),
            trap,
            _telemetry(plan),
            _image(plan.image),
            _efa(plan),
            _instance_store(plan.instance_store_disks, plan.image),
            _scratch(plan.scratch),
            _mounts(plan.mounts, plan.image),
            finish,
        ]
    )


_UNIT = """\
[Unit]
Description=hpc-constructs node set-up (EFA check, instance store, scratch volume, file systems)
Wants=network-online.target
After=network-online.target
# Skipped when the user data already ran the set-up in this boot.
ConditionPathExists=!@DONE@

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=@SETUP@

[Install]
WantedBy=multi-user.target
"""

_DROP_IN = """\
[Unit]
Requires=@UNIT@
After=@UNIT@
"""


def _heredoc(path: str, text: str, mode: str) -> list[str]:
    marker = "HPC_CONSTRUCTS_EOF"
    if any(line.strip() == marker for line in text.splitlines()):  # pragma: no cover
        raise ValueError(f"{path}: the text holds the here-document marker {marker}")
    body = text if text.endswith("\n") else text + "\n"
    return [f"cat >{path} <<'{marker}'", body + marker, f"chmod {mode} {path}"]


def user_data_script(plan: BootPlan, user_commands: Sequence[str] = ()) -> list[str]:
    """User-data lines (without the ``#!`` line): install the set-up, its unit and the user's
    commands, then run the set-up. Every later boot runs the set-up from the unit."""
    lines = [
        f"# hpc-constructs {plan.launcher} ({plan.instance_type}): node set-up at every boot;",
        f"# log: {LOG_PATH}",
        "set -eo pipefail",
        f"mkdir -p /opt/hpc-constructs {STATE_DIR}",
    ]
    lines += _heredoc(SETUP_PATH, node_setup_script(plan), "0755")
    lines += _heredoc(USER_COMMANDS_PATH, "\n".join(user_commands), "0700")
    if plan.telemetry is not None:
        lines += _heredoc(AGENT_CONFIG_PATH, agent_config_text(plan.telemetry), "0644")
    lines += _heredoc(
        f"/etc/systemd/system/{UNIT_NAME}", _fill(_UNIT, DONE=DONE_MARKER, SETUP=SETUP_PATH), "0644"
    )
    for service in plan.required_by:
        directory = f"/etc/systemd/system/{service}.service.d"
        lines.append(f"mkdir -p {directory}")
        lines += _heredoc(
            f"{directory}/10-hpc-node-setup.conf", _fill(_DROP_IN, UNIT=UNIT_NAME), "0644"
        )
    lines += [
        "systemctl daemon-reload",
        f"systemctl enable {UNIT_NAME}",
        SETUP_PATH,
    ]
    return lines
