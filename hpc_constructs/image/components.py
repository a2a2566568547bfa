"""The Image Builder components of an :class:`~hpc_constructs.image.plan.ImagePlan`: AWSTOE
component documents (YAML, ``schemaVersion: 1.0``) whose steps are bash scripts.

Each script is a complete program (``set -euo pipefail``, helpers first), so the tests run the
very text that goes into the document in the sandbox (``tests/test_image_sandbox.py``). The
build component downloads and verifies before it installs, and fails the build on any
mismatch; the test component runs on an instance launched from the new AMI and fails the
build when a piece is missing. Nodes that boot the image install nothing.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from hpc_constructs.boot.plan import IMAGE_MANIFEST_PATH
from hpc_constructs.image.plan import (
    EFA_INSTALLER_BASE_URL,
    EFA_INSTALLER_KEY_FINGERPRINT,
    PCS_REPO_URL,
    ImagePlan,
)

WORK_DIR = "/var/tmp/hpc-constructs-image"


@dataclass(frozen=True)
class Step:
    """One AWSTOE step: ``ExecuteBash`` with one script, or ``Reboot``."""

    name: str
    script: str = ""
    reboot: bool = False


@dataclass(frozen=True)
class Component:
    """One Image Builder component: a build or test phase of steps."""

    name: str
    description: str
    phase: str  # build | test
    steps: tuple[Step, ...]

    @property
    def document(self) -> str:
        return component_document(self)


_PRELUDE = """\
#!/bin/bash
set -euo pipefail
log() { echo "hpc-constructs image: $*"; }
die() { echo "hpc-constructs image: FAILED: $*" >&2; exit 1; }
# retry TRIES COMMAND...: network steps of the build, 10 s apart.
retry() {
  local tries=$1 n=1
  shift
  until "$@"; do
    [ "$n" -lt "$tries" ] || return 1
    log "attempt $n/$tries of '$*' failed; retrying in 10s"
    sleep 10
    n=$((n + 1))
  done
}
# record NAME VERSION: one line of the image's manifest (nodes log it at boot).
record() {
  mkdir -p "$(dirname @MANIFEST@)"
  touch @MANIFEST@
  grep -v "^$1=" @MANIFEST@ >@MANIFEST@.new || true
  echo "$1=$2" >>@MANIFEST@.new
  mv @MANIFEST@.new @MANIFEST@
}
imds() {
  local token
  token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \\
    http://169.254.169.254/latest/api/token)
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}
mkdir -p @WORK@
"""


def _script(body: str, **values: str) -> str:
    text = (_PRELUDE + body).replace("@MANIFEST@", IMAGE_MANIFEST_PATH).replace("@WORK@", WORK_DIR)
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


_UPDATE = """\
# The newest kernel and packages of the base's pinned Amazon Linux release (deterministic
# upgrades: dnf stays on the release the base AMI is locked to); a reboot follows, so the EFA
# and Lustre kernel modules are built for and checked against the kernel the nodes boot.
if command -v dnf >/dev/null 2>&1; then
  retry 3 dnf upgrade -y @EXCLUDE@
else
  die "dnf is missing: HpcImage components need a dnf-based base (Amazon Linux 2023, RHEL 9, Rocky 9)"
fi
log "packages upgraded; kernel $(uname -r) until the reboot"
"""

_EFA = """\
# EC2 User Guide, "Get started with EFA and MPI", "Install the EFA software": download the
# pinned installer, its signature and AWS's public key; the key's fingerprint must be the one
# the guide prints, the signature must verify; only then is the installer run.
cd @WORK@
version=@VERSION@
tarball=aws-efa-installer-$version.tar.gz
for f in "$tarball" "$tarball.sig" aws-efa-installer.key; do
  retry 5 curl -fsSL -o "$f" "@BASE@/$f" || die "EFA installer: download of @BASE@/$f failed"
done
command -v gpg >/dev/null 2>&1 || retry 3 dnf install -y gnupg2
export GNUPGHOME=@WORK@/gnupg
rm -rf "$GNUPGHOME"
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --quiet --import aws-efa-installer.key
# awk reads all of gpg's output (an early exit could fail the pipe under pipefail).
fingerprint=$(gpg --batch --with-colons --fingerprint | awk -F: '$1 == "fpr" && !n++ {print $10}')
[ "$fingerprint" = @FINGERPRINT@ ] \\
  || die "EFA installer: the key's fingerprint is $fingerprint, not @FINGERPRINT@ (EC2 User Guide): not installing"
gpg --batch --verify "$tarball.sig" "$tarball" \\
  || die "EFA installer: the signature of $tarball does not verify: not installing"
@SHA256_CHECK@
log "EFA installer $version: signature verified (key @FINGERPRINT@)"
rm -rf aws-efa-installer
tar -xzf "$tarball"
(cd aws-efa-installer && ./efa_installer.sh -y) || die "EFA installer: efa_installer.sh failed"
[ -x /opt/amazon/efa/bin/fi_info ] || die "EFA installer: finished but fi_info is missing"
record efa-installer "$version"
record libfabric "$(/opt/amazon/efa/bin/fi_info --version | awk '/libfabric:/ && !n++ {print $2}')"
record openmpi "$(rpm -qa 'openmpi*-aws' | sort | tr '\\n' ' ' | sed 's/ $//')"
"""

_LUSTRE = """\
# FSx for Lustre User Guide, "Installing the Lustre client" (Amazon Linux 2023): the client
# from the distribution, whose kernel module must load on the kernel this image boots.
retry 3 dnf install -y lustre-client || die "Lustre client: dnf install lustre-client failed"
modprobe lustre \\
  || die "Lustre client: the lustre module does not load on kernel $(uname -r): the FSx for Lustre User Guide lists the kernels the Amazon Linux 2023 client supports"
record lustre-client "$(rpm -q --qf '%{VERSION}-%{RELEASE}' lustre-client)"
"""

_PACKAGES = """\
# What the node set-up uses at every boot, baked in so a node installs nothing.
retry 3 dnf install -y @PACKAGES@ || die "dnf install @PACKAGES@ failed"
@RECORDS@
"""

_PCS = """\
# AWS PCS User Guide, "Software installers to build custom AMIs for AWS PCS": the agent and
# the Slurm installer from the Region's PCS repository, each checked against the SHA256 of the
# guide's "Verify installers using a checksum" table before it runs.
cd @WORK@
region=$(imds placement/region) || die "PCS: the Region is unknown (instance metadata unreachable)"
repo="@REPO@"
agent=aws-pcs-agent-v@AGENT_VERSION@.tar.gz
slurm=aws-pcs-slurm-@SLURM_MAJOR@-installer-@SLURM_VERSION@.tar.gz
retry 5 curl -fsSL -o "$agent" "$repo/aws-pcs-agent/$agent" || die "PCS agent: download failed"
retry 5 curl -fsSL -o "$slurm" "$repo/aws-pcs-slurm/$slurm" || die "PCS Slurm: download failed"
echo "@AGENT_SHA256@  $agent" | sha256sum -c - || die "PCS agent: $agent does not match its SHA256: not installing"
echo "@SLURM_SHA256@  $slurm" | sha256sum -c - || die "PCS Slurm: $slurm does not match its SHA256: not installing"
rm -rf aws-pcs-agent "aws-pcs-slurm-@SLURM_MAJOR@-installer"
tar -xzf "$agent"
tar -xzf "$slurm"
(cd aws-pcs-agent && ./installer.sh) || die "PCS agent: installer.sh failed"
# The guide's check of a successful install: /opt/aws/pcs/version names the agent version.
grep -qx "AGENT_VERSION='@AGENT_SEMVER@'" /opt/aws/pcs/version \
  || die "PCS agent: /opt/aws/pcs/version does not name version @AGENT_SEMVER@ after the install"
(cd "aws-pcs-slurm-@SLURM_MAJOR@-installer" && ./installer.sh -y) || die "PCS Slurm: installer.sh failed"
record pcs-agent @AGENT_VERSION@
record slurm @SLURM_VERSION@
"""

_FINISH = """\
record kernel "$(uname -r)"
record built "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
rm -rf @WORK@
log "image manifest: $(tr '\\n' ' ' <@MANIFEST@)"
"""

_TEST = """\
# Fails the build when the image lacks what its nodes expect (nodes install nothing).
[ -s @MANIFEST@ ] || die "the image manifest @MANIFEST@ is missing"
log "manifest: $(tr '\\n' ' ' <@MANIFEST@)"
@CHECKS@
log "image tests passed on kernel $(uname -r)"
"""

_TEST_EFA = """\
[ -x /opt/amazon/efa/bin/fi_info ] || die "EFA: /opt/amazon/efa/bin/fi_info is missing"
modinfo efa >/dev/null || die "EFA: no efa kernel module for kernel $(uname -r)"
if ls /dev/infiniband/uverbs* >/dev/null 2>&1; then
  /opt/amazon/efa/bin/fi_info -p efa -t FI_EP_RDM >/dev/null \\
    || die "EFA: fi_info -p efa finds no efa provider"
else
  # The test instance has no EFA interface (Image Builder attaches none): the provider is
  # checked on every node at boot; here the library and the module must be there.
  /opt/amazon/efa/bin/fi_info --version >/dev/null || die "EFA: libfabric does not run"
fi
"""

_TEST_LUSTRE = """\
command -v mount.lustre >/dev/null || die "Lustre: mount.lustre is missing"
modprobe lustre || die "Lustre: the lustre module does not load on kernel $(uname -r)"
"""

_TEST_GPU = """\
# grep reads all of ldconfig's output: with -q it would exit at the first match, and under
# pipefail ldconfig's SIGPIPE (a big cache, as the Deep Learning AMI's) would fail the check.
ldconfig -p | grep 'libnccl\\.so' >/dev/null || compgen -G '/usr/local/cuda*/lib*/libnccl.so*' >/dev/null \\
  || die "GPU: NCCL (libnccl.so) is missing"
compgen -G '/opt/amazon/ofi-nccl/lib*/libnccl-net*.so' >/dev/null \\
  || compgen -G '/opt/aws-ofi-nccl/lib*/libnccl-net*.so' >/dev/null \\
  || die "GPU: the EFA NCCL plugin (aws-ofi-nccl, libnccl-net*.so) is missing"
"""

_TEST_COMMAND = 'command -v {cmd} >/dev/null || die "{what} ({cmd}) is missing"\n'

_TEST_PCS = """\
[ -x /opt/aws/pcs/scheduler/slurm-@SLURM_MAJOR@/sbin/slurmd ] \\
  || die "PCS: slurmd of Slurm @SLURM_MAJOR@ is missing"
grep -qx "AGENT_VERSION='@AGENT_SEMVER@'" /opt/aws/pcs/version 2>/dev/null \
  || die "PCS: the agent @AGENT_SEMVER@ is missing (/opt/aws/pcs/version)"
"""


def _kernel_exclusion(plan: ImagePlan) -> str:
    """GPU images keep their base's kernel: the Deep Learning AMI builds its NVIDIA driver for
    the kernel it ships, and a newer kernel without a rebuilt driver leaves the GPUs unusable.
    The other bases take the release's newest kernel."""
    return "--exclude='kernel*'" if plan.gpu else ""


def _efa_script(plan: ImagePlan) -> str:
    sha = plan.efa_installer_sha256
    check = (
        f'echo "{sha}  $tarball" | sha256sum -c - '
        '|| die "EFA installer: $tarball does not match its SHA256: not installing"'
        if sha
        else "# (no SHA256 given: the GPG signature is the check)"
    )
    return _script(
        _EFA,
        VERSION=plan.efa_installer_version,
        BASE=EFA_INSTALLER_BASE_URL,
        FINGERPRINT=EFA_INSTALLER_KEY_FINGERPRINT,
        SHA256_CHECK=check,
    )


def _packages(plan: ImagePlan) -> tuple[list[str], list[str]]:
    packages = ["mdadm"]
    if plan.efs_client:
        packages.append("amazon-efs-utils")
    if plan.cloudwatch_agent:
        packages.append("amazon-cloudwatch-agent")
    return packages, [
        f"record {p} \"$(rpm -q --qf '%{{VERSION}}-%{{RELEASE}}' {p})\"" for p in packages[1:]
    ]


def _pcs_script(plan: ImagePlan) -> str:
    pcs = plan.pcs
    assert pcs is not None  # plan_image checked it has a Slurm installer
    assert pcs.slurm is not None
    return _script(
        _PCS,
        REPO=PCS_REPO_URL.format(region="$region"),
        AGENT_VERSION=pcs.agent_installer.version,
        AGENT_SEMVER=pcs.agent_installer.version.split("-")[0],
        AGENT_SHA256=pcs.agent_installer.sha256,
        SLURM_MAJOR=pcs.slurm_version,
        SLURM_VERSION=pcs.slurm.version,
        SLURM_SHA256=pcs.slurm.sha256,
    )


def build_components(plan: ImagePlan) -> tuple[Component, ...]:
    """The build phase as one component per concern, in recipe order: packages and kernel
    (then a reboot), what builds kernel modules (EFA, Lustre), the node tools, PCS, the user's
    steps and the manifest. One component each keeps every document far below Image
    Builder's size limit and shows each piece by name in the build log."""

    def build(name: str, description: str, *steps: Step) -> Component:
        return Component(name, f"hpc-constructs {plan.name}: {description}", "build", steps)

    made = [
        build(
            "update",
            "upgrade packages and the kernel, reboot",
            Step("UpgradePackages", _script(_UPDATE, EXCLUDE=_kernel_exclusion(plan))),
            Step("RebootOnNewKernel", reboot=True),
        )
    ]
    if plan.efa:
        made.append(
            build(
                "efa",
                f"EFA installer {plan.efa_installer_version}, GPG signature verified",
                Step("InstallVerifiedEfa", _efa_script(plan)),
            )
        )
    if plan.lustre_client:
        made.append(
            build(
                "lustre",
                "Lustre client for the image's kernel",
                Step("InstallLustreClient", _script(_LUSTRE)),
            )
        )
    packages, records = _packages(plan)
    made.append(
        build(
            "tools",
            "node tools: " + ", ".join(packages),
            Step(
                "InstallNodeTools",
                _script(_PACKAGES, PACKAGES=" ".join(packages), RECORDS="\n".join(records)),
            ),
        )
    )
    if plan.pcs is not None:
        made.append(
            build(
                "pcs",
                f"AWS PCS agent and Slurm {plan.pcs.slurm_version}, SHA256 verified",
                Step("InstallPcsSoftware", _pcs_script(plan)),
            )
        )
    if plan.shell_steps:
        made.append(
            build(
                "user",
                "the image's own shell steps",
                *(
                    Step(f"UserStep{i}", _script(command.rstrip() + "\n"))
                    for i, command in enumerate(plan.shell_steps, 1)
                ),
            )
        )
    made.append(
        build(
            "manifest",
            f"the manifest {IMAGE_MANIFEST_PATH}",
            Step("WriteManifest", _script(f"record image {shlex.quote(plan.name)}\n" + _FINISH)),
        )
    )
    return tuple(made)


def test_script(plan: ImagePlan) -> str:
    checks = ""
    if plan.efa:
        checks += _TEST_EFA
    if plan.lustre_client:
        checks += _TEST_LUSTRE
    if plan.efs_client:
        checks += _TEST_COMMAND.format(cmd="mount.efs", what="EFS client")
    checks += _TEST_COMMAND.format(cmd="mdadm", what="instance store tools")
    if plan.cloudwatch_agent:
        checks += (
            "[ -x /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl ] "
            '|| die "the CloudWatch agent is missing"\n'
        )
    if plan.gpu:
        checks += _TEST_GPU
    if plan.pcs is not None:
        checks += _TEST_PCS.replace("@SLURM_MAJOR@", plan.pcs.slurm_version).replace(
            "@AGENT_SEMVER@", plan.pcs.agent_installer.version.split("-")[0]
        )
    return _script(_TEST, CHECKS=checks.rstrip("\n"))


def components(plan: ImagePlan) -> tuple[Component, ...]:
    """The build components of ``plan`` in order, then its test component."""
    return (
        *build_components(plan),
        Component(
            "test",
            f"hpc-constructs {plan.name}: fails the build when a baked-in piece is missing",
            "test",
            (Step("CheckImage", test_script(plan)),),
        ),
    )


def _block(text: str, indent: int) -> str:
    pad = " " * indent
    return "\n".join(pad + line if line else "" for line in text.rstrip("\n").split("\n"))


def component_document(component: Component) -> str:
    """The AWSTOE document: block YAML written here (no YAML library needed at synth time),
    each script a literal block scalar so the document holds it byte for byte."""
    lines = [
        f"name: {component.name}",
        f"description: {_quote(component.description)}",
        "schemaVersion: 1.0",
        "phases:",
        f"  - name: {component.phase}",
        "    steps:",
    ]
    for step in component.steps:
        lines.append(f"      - name: {step.name}")
        if step.reboot:
            lines += ["        action: Reboot", "        onFailure: Abort", "        inputs:",
                      "          delaySeconds: 0"]  # fmt: skip
            continue
        lines += [
            "        action: ExecuteBash",
            "        onFailure: Abort",
            "        inputs:",
            "          commands:",
            "            - |-",
            _block(step.script, 14),
        ]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def documents(plan: ImagePlan) -> Sequence[str]:
    return [c.document for c in components(plan)]
