"""scripts/refresh_instance_catalog.py against moto's EC2 mock: the file it writes has the
committed snapshot's schema and the facts the catalog relies on."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hpc_constructs.catalog import DATA_FILE, SCHEMA_VERSION, InstanceTypeCatalog, offered_in
from tests.pcluster_venv import user_cache

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ["us-east-2", "us-west-2"]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "refresh_instance_catalog", ROOT / "scripts" / "refresh_instance_catalog.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


refresh = _load_script()


def _read(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def _key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path in a JSON value (list elements merged), e.g. NetworkInfo.NetworkCards[]."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= _key_paths(sub, path)
    elif isinstance(value, list):
        for item in value:
            paths |= _key_paths(item, prefix + "[]")
    return paths


def _entry_paths(types: dict[str, Any]) -> set[str]:
    paths: set[str] = set()
    for entry in types.values():
        paths |= _key_paths({k: v for k, v in entry.items() if k != "Offerings"})
    return paths


#: The script's output by content hash (its source, the moto/boto versions, the regions): moto
#: replays recorded EC2 data, so the same inputs write the same file; a warm run, or a fresh
#: clone on the same machine, reads it back (user-level cache, see CONTRIBUTING.md "Caches").
CACHE = user_cache("refresh-catalog")


def _cache_key() -> str:
    from importlib.metadata import version

    digest = hashlib.sha256((ROOT / "scripts" / "refresh_instance_catalog.py").read_bytes())
    for package in ("moto", "boto3", "botocore"):
        digest.update(f"{package}=={version(package)}".encode())
    digest.update(",".join(REGIONS).encode())
    return digest.hexdigest()[:32]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cached = CACHE / f"{_cache_key()}.json.gz"
    if cached.exists():
        return cached
    output = tmp_path_factory.mktemp("catalog") / "instance_types.json.gz"
    _run_refresh_against_moto(output)
    CACHE.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=CACHE, prefix=f".{cached.name}.")
    os.close(fd)
    shutil.copyfile(output, partial)
    os.replace(partial, cached)  # atomic: other workers and checkouts read the same directory
    return cached


def _run_refresh_against_moto(output: Path) -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        calls: list[str] = []

        def factory(region: str) -> Any:
            calls.append(region)
            return session.client("ec2", region_name=region)

        assert (
            refresh.main(["--regions", *REGIONS, "--output", str(output)], client_factory=factory)
            == 0
        )
    assert calls == REGIONS  # the injected factory was used, once per region


@pytest.mark.slow  # the first run on a machine runs the script (see CACHE)
def test_generated_file_has_the_committed_schema(generated: Path) -> None:
    new, committed = _read(generated), _read(DATA_FILE)
    assert (
        set(new)
        == set(committed)
        == {
            "schema_version",
            "source",
            "generated_at",
            "regions",
            "instance_types",
        }
    )
    assert new["schema_version"] == committed["schema_version"] == SCHEMA_VERSION
    assert new["regions"] == sorted(REGIONS)
    assert _entry_paths(new["instance_types"]) == _entry_paths(committed["instance_types"])
    sample = new["instance_types"]["p5.48xlarge"]
    assert set(sample) == set(committed["instance_types"]["p5.48xlarge"])


@pytest.mark.slow  # the first run on a machine runs the script (see CACHE)
def test_generated_file_keeps_only_the_fields_the_catalog_reads(generated: Path) -> None:
    entry = _read(generated)["instance_types"]["p5.48xlarge"]
    assert set(entry) - {"Offerings"} <= set(refresh.KEEP)
    assert "EbsInfo" not in entry
    assert "Hypervisor" not in entry
    assert "InterfaceTypes" in entry["NetworkInfo"]["NetworkCards"][0]


@pytest.mark.slow  # the first run on a machine runs the script (see CACHE)
def test_generated_file_loads_and_spot_checks_facts(generated: Path) -> None:
    catalog = InstanceTypeCatalog(generated)
    assert catalog.source.startswith("EC2 DescribeInstanceTypes")
    assert catalog.surveyed_regions == tuple(sorted(REGIONS))
    assert len(catalog.names()) > 1000
    p5 = catalog.get("p5.48xlarge")
    assert (p5.max_efa_interfaces, p5.max_network_cards, p5.network_gbps) == (32, 32, 3200)
    hpc7a = catalog.get("hpc7a.96xlarge")
    assert hpc7a.zones["us-east-2"] == ("us-east-2b",)
    assert offered_in(hpc7a, "us-west-2") is False
    assert offered_in(hpc7a, "us-east-1") is None  # not surveyed in this run
    b300 = catalog.get("p6-b300.48xlarge")
    assert [c.efa_supported for c in b300.network_cards][:2] == [False, True]
    assert catalog.get("c5.large").efa_supported is False


def test_output_is_byte_stable_for_the_same_content(tmp_path: Path) -> None:
    document = {"schema_version": SCHEMA_VERSION, "instance_types": {}}
    first, second = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    refresh.write_document(document, first)
    refresh.write_document(document, second)
    assert first.read_bytes() == second.read_bytes()


def test_committed_file_is_small_and_stamped() -> None:
    assert DATA_FILE.stat().st_size < 3_000_000
    committed = _read(DATA_FILE)
    assert "moto" in committed["source"]
    assert len(committed["regions"]) == 30
