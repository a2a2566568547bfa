"""`hpc-lint` (cfn-lint with the HPC rule pack for the right region) and cheap rule-pack imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hpc_constructs import lint
from tests.harness import ROOT

HPC7A_TEMPLATE = {
    "Resources": {
        "Lt": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {"LaunchTemplateData": {"InstanceType": "hpc7a.96xlarge"}},
        }
    }
}


def _assembly(tmp_path: Path, region: str) -> Path:
    template = tmp_path / "Mpi.template.json"
    template.write_text(json.dumps(HPC7A_TEMPLATE, indent=1))
    manifest = {
        "artifacts": {
            "Mpi": {
                "type": "aws:cloudformation:stack",
                "environment": f"aws://123456789012/{region}",
                "properties": {"templateFile": "Mpi.template.json"},
            }
        }
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return template


def test_lints_for_the_region_in_the_cloud_assembly(tmp_path: Path) -> None:
    template = _assembly(tmp_path, "us-east-2")
    assert lint.manifest_region(template) == "us-east-2"
    assert lint.main([str(template)]) == 0  # hpc7a is offered in us-east-2: no false E3628


def test_reports_findings_with_a_non_zero_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = _assembly(tmp_path, "us-east-2")
    assert lint.main([str(template), "--region", "us-east-1"]) == 1
    out = capsys.readouterr().out
    assert "E3628" in out
    assert len(out.splitlines()[0]) < 500  # the allowed-values list is shortened


def test_hpc_rules_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "fs.json"
    props = {
        "FileSystemType": "LUSTRE",
        "StorageCapacity": 3600,
        "SubnetIds": ["subnet-12345678"],
        "LustreConfiguration": {"DeploymentType": "SCRATCH_2"},
    }
    template.write_text(
        json.dumps({"Resources": {"Fs": {"Type": "AWS::FSx::FileSystem", "Properties": props}}})
    )
    assert lint.main([str(template), "--region", "us-east-2"]) == 1
    assert "E9101" in capsys.readouterr().out


def test_requires_a_region_outside_a_cloud_assembly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "t.json"
    template.write_text(json.dumps(HPC7A_TEMPLATE))
    assert lint.main([str(template)]) == 2
    assert "pass --region" in capsys.readouterr().err


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "hpc-lint"
    assert script.exists(), "refresh the editable install: pip install -e '.[dev]' --no-deps"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "--region" in result.stdout


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(result.stdout.split())


def test_the_rule_pack_modules_do_not_import_the_cdk() -> None:
    # Loaded by file path (as cfn-lint loads --append-rules), the rule pack is CDK-free.
    rules = ROOT / "hpc_constructs" / "cfn_lint_rules"
    statement = (
        "import importlib.util as u; "
        f"s = u.spec_from_file_location('r', {str(rules / 'HpcRules.py')!r}); "
        "m = u.module_from_spec(s); s.loader.exec_module(m)"
    )
    modules = _modules_after(statement)
    assert "jsii" not in modules
    assert "aws_cdk" not in modules


def test_importing_the_rule_pack_package_does_not_start_jsii() -> None:
    assert "jsii" not in _modules_after("import hpc_constructs.cfn_lint_rules")
    assert "jsii" not in _modules_after("import hpc_constructs.lint")
