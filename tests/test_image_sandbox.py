"""The EC2 Image Builder components of an HpcImage, executed: the build components' step
scripts in recipe order on a sandboxed build instance (tests/sandbox/harness.py,
:class:`SandboxBuildHost`; the ``Reboot`` step ends a boot and the next steps run in a new one,
on the kernel the upgrade installed), then the test component on the built root, for a CPU,
an arm64 PCS and a GPU plan; and each check of the build (the EFA key's fingerprint, its
signature, the PCS installers' SHA256, the Lustre module) and of the test component made to
fail.

The PCS installers: ``sha256sum`` is the real one, so the sandbox's PCS repository (the curl
shim) serves ``SANDBOX-FAKE-PCS-TARBALL <file name>\\n`` and the PCS plan pins the SHA256 of
exactly those bytes (``PcsSoftware(agent_installer=Installer(version, sha256))``, the
versions unchanged): the generated ``sha256sum -c`` lines run as they are, and the knob
``pcs_tarball=tampered`` serves other bytes under the same name.

The scenarios run on a thread pool; a scenario that passed is not run again while its
scripts, the harness and shims and this module stay the same (pytest cache; set
HPC_SANDBOX_NO_CACHE=1 or pass --cache-clear to run them all).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from hpc_constructs.boot.plan import IMAGE_MANIFEST_PATH
from hpc_constructs.errors import Validator
from hpc_constructs.image.components import build_components
from hpc_constructs.image.components import test_script as image_test_script
from hpc_constructs.image.plan import (
    EFA_INSTALLER_KEY_FINGERPRINT,
    PCS_AGENT_INSTALLER,
    PCS_SLURM_INSTALLERS,
    ImagePlan,
    ImageProps,
    Installer,
    PcsSoftware,
    plan_image,
)
from tests.sandbox.harness import (
    BuildStep,
    SandboxBuildHost,
    StepRun,
)
from tests.sandbox.runner import ScenarioRunner, assert_shellcheck_clean, needs_namespaces

ROOT = Path(__file__).resolve().parent.parent
BASE_KERNEL = {
    "x86_64": "6.1.119-129.201.amzn2023.x86_64",
    "arm64": "6.1.119-129.201.amzn2023.aarch64",
}
NEW_KERNEL = {
    "x86_64": "6.1.141-165.249.amzn2023.x86_64",
    "arm64": "6.1.141-165.249.amzn2023.aarch64",
}


def fake_pcs_tarball(name: str) -> bytes:
    """What the sandbox's PCS repository serves as ``name`` (tests/sandbox/shims/bin/curl)."""
    return f"SANDBOX-FAKE-PCS-TARBALL {name}\n".encode()


def pinned(installer_file: str, version: str) -> Installer:
    return Installer(version, hashlib.sha256(fake_pcs_tarball(installer_file)).hexdigest())


_SLURM = PCS_SLURM_INSTALLERS["25.05"]
SANDBOX_PCS = PcsSoftware(
    "25.05",
    slurm_installer=pinned(
        f"aws-pcs-slurm-25.05-installer-{_SLURM.version}.tar.gz", _SLURM.version
    ),
    agent_installer=pinned(
        f"aws-pcs-agent-v{PCS_AGENT_INSTALLER.version}.tar.gz", PCS_AGENT_INSTALLER.version
    ),
)
#: name -> the image's props.
PLANS: dict[str, ImageProps] = {
    "cpu-hpc7a": ImageProps(instance_types=("hpc7a.96xlarge",)),
    "pcs-hpc7g": ImageProps(instance_types=("hpc7g.16xlarge",), pcs=SANDBOX_PCS),
    "gpu-p5": ImageProps(instance_types=("p5.48xlarge",)),
}
#: The Deep Learning AMI's NCCL and EFA NCCL plugin (what a GPU image's test checks).
DLAMI_NCCL = "/usr/local/cuda-12.8/lib/libnccl.so.2"
DLAMI_OFI_NCCL = "/opt/amazon/ofi-nccl/lib/libnccl-net-ofi.so"


@functools.cache
def image_plan(name: str) -> ImagePlan:
    """The plan HpcImage builds from ``PLANS[name]`` (first built on the main thread)."""
    v = Validator(f"Sandbox/{name}")
    plan = plan_image(v, PLANS[name], f"sandbox-{name}")
    assert plan is not None, v.problems
    return plan


def build_steps(plan: ImagePlan) -> list[BuildStep]:
    """The build components' steps in recipe order (a Reboot step as ``None``)."""
    return [
        (f"{c.name}.{s.name}", None if s.reboot else s.script)
        for c in build_components(plan)
        for s in c.steps
    ]


def base_files(plan: ImagePlan) -> dict[str, str]:
    """The base image's own files: the Deep Learning AMI's NCCL and plugin for a GPU image."""
    if not plan.gpu:
        return {}
    nccl_dir = str(Path(DLAMI_NCCL).parent)
    return {
        DLAMI_NCCL: "ELF",
        DLAMI_OFI_NCCL: "ELF",
        "/etc/ld.so.conf.d/nccl.conf": f"{nccl_dir}\n",
    }


def make_host(name: str, workdir: Path, **knobs: str) -> SandboxBuildHost:
    plan = image_plan(name)
    knobs = {"kernel": BASE_KERNEL[plan.architecture], "kernel_upgrade": NEW_KERNEL[plan.architecture],
             "region": "eu-west-1", **knobs}  # fmt: skip
    return SandboxBuildHost(workdir, knobs=knobs, files=base_files(plan))


def manifest(host: SandboxBuildHost) -> dict[str, str]:
    text = host.file(IMAGE_MANIFEST_PATH).read_text()
    return dict(line.split("=", 1) for line in text.splitlines())


def build(host: SandboxBuildHost, plan: ImagePlan) -> list[StepRun]:
    runs = host.run(build_steps(plan))
    for run in runs:
        assert run.status == 0, f"{run.name} exited {run.status}\n{run.stdout}\n{run.stderr}"
    return runs


def run_test_component(host: SandboxBuildHost, plan: ImagePlan) -> StepRun:
    """The test component, on an instance launched from the image (the next boot of its root)."""
    (run,) = host.run([("test.CheckImage", image_test_script(plan))])
    return run


def check_build_fails(runs: list[StepRun], step: str, message: str) -> StepRun:
    """``step`` exits non-zero with ``message`` in a FAILED line on stderr; nothing after it runs."""
    names = [r.name for r in runs]
    failed = runs[names.index(step)]
    assert failed.status not in (0, None), f"{step} exited {failed.status}\n{failed.stdout}"
    assert any(message in line for line in failed.failures), (message, failed.stderr)
    assert all(r.status is None for r in runs[names.index(step) + 1 :])
    return failed


def called(host: SandboxBuildHost, command: str) -> list[tuple[str, ...]]:
    return [c.argv for c in host.calls() if c.command == command]


# --- scenarios ------------------------------------------------------------------------------


class _Images:
    """The image of each plan (default knobs and base), built once per session by the first
    scenario that needs it; the test component's scenarios run on copies of its root
    (instances launched from the image)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.futures: dict[str, Future[tuple[SandboxBuildHost, list[StepRun]]]] = {}
        self.factory: pytest.TempPathFactory | None = None

    def get(self, name: str) -> tuple[SandboxBuildHost, list[StepRun]]:
        with self.lock:
            future = self.futures.get(name)
            owner = future is None
            if future is None:
                future = self.futures[name] = Future()
        if owner:
            assert self.factory is not None
            try:
                host = make_host(name, self.factory.mktemp(f"image-{name}"))
                future.set_result((host, build(host, image_plan(name))))
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()

    def launch(self, name: str, workdir: Path, **knobs: str) -> SandboxBuildHost:
        return self.get(name)[0].launch_copy(workdir, **knobs)


IMAGES = _Images()


def builds(name: str, workdir: Path) -> None:
    """Every build step passes, the manifest names every piece, the test component passes."""
    plan = image_plan(name)
    host, runs = IMAGES.get(name)
    assert [r.name for r in runs if r.name.endswith("RebootOnNewKernel")] == [
        "update.RebootOnNewKernel"
    ]
    assert (runs[0].boot, runs[-1].boot) == (1, 2)  # the reboot: a new boot
    got = manifest(host)
    expected = {"efa-installer", "libfabric", "openmpi", "lustre-client", "amazon-efs-utils",
                "amazon-cloudwatch-agent", "kernel", "image", "built"}  # fmt: skip
    if plan.pcs is not None:
        expected |= {"pcs-agent", "slurm"}
    assert set(got) == expected, got
    assert got["efa-installer"] == plan.efa_installer_version
    assert got["libfabric"] == "1.22.0amzn4.0"
    # recorded after the reboot: the release's newest kernel, or the base's for a GPU image
    assert got["kernel"] == booted_kernel(plan)
    assert got["image"] == plan.name
    assert got["lustre-client"] == "2.15.6-1.amzn2023"
    assert got["openmpi"].startswith("openmpi40-aws-"), got
    if plan.pcs is not None:
        assert plan.pcs.slurm is not None
        assert (got["pcs-agent"], got["slurm"]) == (
            plan.pcs.agent_installer.version,
            plan.pcs.slurm.version,
        )
        downloads = [a[-1] for a in called(host, "curl") if "aws-pcs-repo" in a[-1]]
        assert all(
            u.startswith("https://aws-pcs-repo-eu-west-1.s3.eu-west-1.amazonaws.com/")
            for u in downloads
        )
        assert called(host, "pcs-agent/installer.sh")
        assert called(host, "pcs-slurm/installer.sh")
    # the installer ran only after the key and the signature were checked
    order = [c.command for c in host.calls() if c.command in ("gpg", "efa_installer.sh")]
    assert order[-1] == "efa_installer.sh", order
    assert order.count("efa_installer.sh") == 1, order
    assert called(host, "gpg")[-1][:3] == ("gpg", "--batch", "--verify")
    assert not host.file("/var/tmp/hpc-constructs-image").exists()
    assert ("modprobe", "lustre") in called(host, "modprobe")
    test = run_test_component(IMAGES.launch(name, workdir), plan)
    assert test.status == 0, test.stdout + test.stderr
    assert f"image tests passed on kernel {booted_kernel(plan)}" in test.stdout
    upgrades = [a for a in called(host, "dnf") if a[1] == "upgrade"]
    assert upgrades == [("dnf", "upgrade", "-y", *(("--exclude=kernel*",) if plan.gpu else ()))]


def booted_kernel(plan: ImagePlan) -> str:
    """The kernel the image boots: GPU images keep the base's (its NVIDIA driver is built for
    it), the others take the upgrade's."""
    return (BASE_KERNEL if plan.gpu else NEW_KERNEL)[plan.architecture]


def efa_key_fingerprint_differs(name: str, workdir: Path) -> None:
    host = make_host(name, workdir, efa_key_fingerprint="0123456789ABCDEF0123456789ABCDEF01234567")
    runs = host.run(build_steps(image_plan(name)))
    check_build_fails(
        runs,
        "efa.InstallVerifiedEfa",
        "the key's fingerprint is 0123456789ABCDEF0123456789ABCDEF01234567, not "
        f"{EFA_INSTALLER_KEY_FINGERPRINT} (EC2 User Guide): not installing",
    )
    assert not called(host, "efa_installer.sh")
    assert not called(host, "tar")


def efa_signature_bad(name: str, workdir: Path) -> None:
    host = make_host(name, workdir, efa_signature="bad")
    plan = image_plan(name)
    runs = host.run(build_steps(plan))
    check_build_fails(
        runs,
        "efa.InstallVerifiedEfa",
        f"the signature of aws-efa-installer-{plan.efa_installer_version}.tar.gz does not verify",
    )
    assert not called(host, "efa_installer.sh")


def efa_tarball_corrupt(name: str, workdir: Path) -> None:
    """A tarball that is not the signed one (a truncated download) fails the signature too."""
    host = make_host(name, workdir, efa_download="corrupt")
    runs = host.run(build_steps(image_plan(name)))
    check_build_fails(runs, "efa.InstallVerifiedEfa", "does not verify: not installing")
    assert not called(host, "efa_installer.sh")


def pcs_tarball_tampered(name: str, workdir: Path) -> None:
    host = make_host(name, workdir, pcs_tarball="tampered")
    plan = image_plan(name)
    runs = host.run(build_steps(plan))
    check_build_fails(
        runs,
        "pcs.InstallPcsSoftware",
        f"PCS agent: aws-pcs-agent-v{plan.pcs.agent_installer.version}.tar.gz does not match its "  # type: ignore[union-attr]
        "SHA256: not installing",
    )
    assert not called(host, "pcs-agent/installer.sh")
    assert not called(host, "pcs-slurm/installer.sh")


def lustre_module_fails(name: str, workdir: Path) -> None:
    plan = image_plan(name)
    host = make_host(name, workdir, lustre_module="fail")
    runs = host.run(build_steps(plan))
    check_build_fails(
        runs,
        "lustre.InstallLustreClient",
        f"the lustre module does not load on kernel {booted_kernel(plan)}",
    )


def image_without_mount_lustre(name: str, workdir: Path) -> None:
    plan = image_plan(name)
    host = IMAGES.launch(name, workdir)
    host.file("/usr/local/sbin/mount.lustre").unlink()
    test = run_test_component(host, plan)
    assert test.status not in (0, None)
    assert "hpc-constructs image: FAILED: Lustre: mount.lustre is missing" in test.failures, (
        test.stderr
    )


def image_without_nccl_plugin(name: str, workdir: Path) -> None:
    plan = image_plan(name)
    host = IMAGES.launch(name, workdir)
    host.file(DLAMI_OFI_NCCL).unlink()
    test = run_test_component(host, plan)
    assert test.status not in (0, None)
    assert any("GPU: the EFA NCCL plugin" in line for line in test.failures), test.stderr


def image_without_nccl(name: str, workdir: Path) -> None:
    plan = image_plan(name)
    host = IMAGES.launch(name, workdir)
    host.file(DLAMI_NCCL).unlink()
    test = run_test_component(host, plan)
    assert test.status not in (0, None)
    assert any("GPU: NCCL (libnccl.so) is missing" in line for line in test.failures), test.stderr


def nccl_in_a_big_ld_cache(name: str, workdir: Path) -> None:
    """NCCL found only through the loader cache (not under /usr/local/cuda*), and the cache is
    as big as a Deep Learning AMI's: the test component passes (``grep -q`` exits at the
    first match; ldconfig must not then die of SIGPIPE under ``pipefail``)."""
    plan = image_plan(name)
    host = IMAGES.launch(name, workdir, ldconfig_extra="4000")
    host.file(DLAMI_NCCL).unlink()
    host.file("/opt/nccl/lib").mkdir(parents=True)
    host.file("/opt/nccl/lib/libnccl.so.2").write_text("ELF")
    host.file("/etc/ld.so.conf.d/nccl.conf").write_text("/opt/nccl/lib\n")
    test = run_test_component(host, plan)
    assert test.status == 0, test.stdout + test.stderr


def downloads_flaky(name: str, workdir: Path) -> None:
    """The first attempt of every download fails; the retries succeed."""
    plan = image_plan(name)
    host = make_host(name, workdir, download_failures="1")
    build(host, plan)
    urls = [a[-1] for a in called(host, "curl") if "169.254.169.254" not in a[-1]]
    assert len(set(urls)) == (5 if plan.pcs else 3), urls
    assert sorted(urls) == sorted([*set(urls), *set(urls)]), urls  # each tried twice
    assert set(manifest(host)) >= {"efa-installer", "kernel", "image"}
    assert called(host, "sleep") == [("sleep", "10")] * len(set(urls))


SCENARIOS: dict[str, tuple[Callable[[str, Path], None], tuple[str, ...]]] = {
    "builds": (builds, tuple(PLANS)),
    "efa-key-fingerprint-differs": (efa_key_fingerprint_differs, ("cpu-hpc7a",)),
    "efa-signature-bad": (efa_signature_bad, ("cpu-hpc7a",)),
    "efa-tarball-corrupt": (efa_tarball_corrupt, ("cpu-hpc7a",)),
    "pcs-tarball-tampered": (pcs_tarball_tampered, ("pcs-hpc7g",)),
    "lustre-module-fails": (lustre_module_fails, ("cpu-hpc7a",)),
    "test-without-mount-lustre": (image_without_mount_lustre, ("cpu-hpc7a",)),
    "test-without-nccl-plugin": (image_without_nccl_plugin, ("gpu-p5",)),
    "test-without-nccl": (image_without_nccl, ("gpu-p5",)),
    "nccl-in-a-big-ld-cache": (nccl_in_a_big_ld_cache, ("gpu-p5",)),
    "downloads-flaky": (downloads_flaky, ("pcs-hpc7g",)),
}
CASES = [(s, p) for s, (_, plans) in SCENARIOS.items() for p in plans]


def cache_key(scenario: str, plan_name: str, sources: str) -> str:
    """The scenario, its plan and every script it runs, the harness, shims and this module."""
    plan = image_plan(plan_name)
    digest = hashlib.sha256(f"{scenario}\0{plan_name}\0{plan!r}\0{sources}".encode())
    for name, script in build_steps(plan):
        digest.update(f"\0{name}\0{script}".encode())
    digest.update(image_test_script(plan).encode())
    return f"hpc-constructs/image-sandbox/{digest.hexdigest()}"


@pytest.fixture(scope="module")
def runner(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScenarioRunner]:
    IMAGES.factory = tmp_path_factory
    run = ScenarioRunner.for_module(
        request, tmp_path_factory, SCENARIOS, cache_key, "hpc_constructs/image", prefix="image-"
    )
    yield run
    run.shutdown()


@pytest.mark.parametrize(("scenario", "plan"), CASES, ids=[f"{s}-{p}" for s, p in CASES])
@needs_namespaces
def test_image_scenario(scenario: str, plan: str, runner: ScenarioRunner) -> None:
    runner.result(scenario, plan)


@pytest.mark.parametrize("name", list(PLANS))
def test_shellcheck(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """No shellcheck finding at warning level in any step script or the test component (a
    text that passed is remembered in the pytest cache by its content)."""
    plan = image_plan(name)
    texts = {f"{n}.sh": s for n, s in build_steps(plan) if s is not None}
    texts["test.CheckImage.sh"] = image_test_script(plan)
    assert_shellcheck_clean(texts, tmp_path, getattr(request.config, "cache", None))
