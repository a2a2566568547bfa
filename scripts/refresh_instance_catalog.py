"""Regenerate hpc_constructs/catalog/instance_types.json.gz from the EC2 API.

For each region asked: DescribeInstanceTypeOfferings (LocationType region and
availability-zone), then DescribeInstanceTypes for the types offered there that earlier regions
did not already describe. Each entry keeps only the fields hpc-constructs reads, in EC2's own
shape, plus ``Offerings`` (region -> AZ names). Needs credentials allowed to call
ec2:DescribeInstanceTypes, ec2:DescribeInstanceTypeOfferings and (for --all-regions)
ec2:DescribeRegions:

    python scripts/refresh_instance_catalog.py --all-regions
    python scripts/refresh_instance_catalog.py --regions us-east-1 us-east-2 --output out.json.gz

``--from-moto`` replays moto's recorded EC2 data instead (no credentials, no network); that is
how the committed snapshot was made.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "hpc_constructs" / "catalog" / "instance_types.json.gz"
SCHEMA_VERSION = 1  # keep equal to hpc_constructs.catalog.SCHEMA_VERSION
API_SOURCE = "EC2 DescribeInstanceTypes/DescribeInstanceTypeOfferings"
DESCRIBE_BATCH = 100  # DescribeInstanceTypes accepts at most 100 InstanceTypes per call

#: The DescribeInstanceTypes fields kept, as a tree: ``True`` keeps a value whole, a dict keeps
#: those members (of each element, for lists).
KEEP: Mapping[str, Any] = {
    "CurrentGeneration": True,
    "BurstablePerformanceSupported": True,
    "SupportedUsageClasses": True,
    "ProcessorInfo": {"SupportedArchitectures": True},
    "VCpuInfo": {"DefaultVCpus": True, "DefaultCores": True, "DefaultThreadsPerCore": True},
    "MemoryInfo": {"SizeInMiB": True},
    "GpuInfo": {
        "Gpus": {"Count": True, "Name": True, "Manufacturer": True, "MemoryInfo": True},
        "TotalGpuMemoryInMiB": True,
    },
    "NeuronInfo": {"NeuronDevices": {"Count": True, "Name": True}},
    "InstanceStorageInfo": {
        "TotalSizeInGB": True,
        "NvmeSupport": True,
        "Disks": {"Count": True, "SizeInGB": True, "Type": True},
    },
    "NetworkInfo": {
        "NetworkPerformance": True,
        "MaximumNetworkInterfaces": True,
        "MaximumNetworkCards": True,
        "EfaSupported": True,
        "EfaInfo": {"MaximumEfaInterfaces": True},
        "NetworkCards": {
            "NetworkCardIndex": True,
            "MaximumNetworkInterfaces": True,
            "BaselineBandwidthInGbps": True,
            "PeakBandwidthInGbps": True,
            "NetworkPerformance": True,
            "InterfaceTypes": True,
        },
    },
    "PlacementGroupInfo": {"SupportedStrategies": True},
}

ClientFactory = Callable[[str], Any]
"""Returns an EC2 client for a region name (a boto3 client or anything with its methods)."""


def prune(value: Any, keep: Any) -> Any:
    """``value`` restricted to the members named in ``keep`` (see :data:`KEEP`)."""
    if keep is True:
        return value
    if isinstance(value, list):
        return [prune(item, keep) for item in value]
    return {key: prune(value[key], sub) for key, sub in keep.items() if key in value}


def _offerings(client: Any, location_type: str) -> list[dict[str, Any]]:
    paginator = client.get_paginator("describe_instance_type_offerings")
    return [
        offering
        for page in paginator.paginate(LocationType=location_type)
        for offering in page["InstanceTypeOfferings"]
    ]


def _describe(client: Any, names: Sequence[str]) -> list[dict[str, Any]]:
    paginator = client.get_paginator("describe_instance_types")
    found: list[dict[str, Any]] = []
    for start in range(0, len(names), DESCRIBE_BATCH):
        batch = list(names[start : start + DESCRIBE_BATCH])
        for page in paginator.paginate(InstanceTypes=batch):
            found.extend(page["InstanceTypes"])
    return found


def collect(
    regions: Iterable[str], client_factory: ClientFactory, *, log: Callable[[str], None] = print
) -> dict[str, dict[str, Any]]:
    """Trimmed DescribeInstanceTypes entries with ``Offerings``, keyed by instance type."""
    types: dict[str, dict[str, Any]] = {}
    offerings: dict[str, dict[str, set[str]]] = {}
    for region in regions:
        client = client_factory(region)
        in_region = {o["InstanceType"] for o in _offerings(client, "region")}
        for name in in_region:
            offerings.setdefault(name, {}).setdefault(region, set())
        for offering in _offerings(client, "availability-zone"):
            per_region = offerings.setdefault(offering["InstanceType"], {})
            per_region.setdefault(region, set()).add(offering["Location"])
        new = sorted(set(offerings) - set(types))
        for item in _describe(client, new):
            types[item["InstanceType"]] = prune(item, KEEP)
        log(f"{region}: {len(in_region)} types offered, {len(new)} described")
    for name, entry in types.items():
        entry["Offerings"] = {
            region: sorted(azs) for region, azs in sorted(offerings.get(name, {}).items())
        }
    return dict(sorted(types.items()))


def build_document(
    regions: Sequence[str],
    client_factory: ClientFactory,
    *,
    source: str = API_SOURCE,
    generated_at: dt.date | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The whole data file as a JSON-ready dict."""
    day = generated_at or dt.datetime.now(dt.UTC).date()
    return {
        "schema_version": SCHEMA_VERSION,
        "source": source,
        "generated_at": day.isoformat(),
        "regions": sorted(regions),
        "instance_types": collect(regions, client_factory, log=log),
    }


def write_document(document: Mapping[str, Any], output: Path) -> None:
    """Gzipped compact JSON, byte-stable for the same content (no timestamp in the gzip header)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    output.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))


def boto3_client_factory(profile: str | None = None) -> ClientFactory:
    import boto3  # only the generator needs boto3; the library never calls AWS

    session = boto3.session.Session(profile_name=profile)
    return lambda region: session.client("ec2", region_name=region)


def _moto_regions() -> list[str]:
    import moto

    folder = Path(moto.__file__).parent / "ec2/resources/instance_type_offerings/region"
    return sorted(p.name.removesuffix(".json.gz") for p in folder.glob("*.json.gz"))


def _moto_context() -> tuple[AbstractContextManager[Any], ClientFactory, str]:
    import boto3
    import moto

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    source = f"{API_SOURCE} as recorded in moto {moto.__version__}'s EC2 mock data"
    return (
        moto.mock_aws(),
        lambda region: session.client("ec2", region_name=region),
        source,
    )


def main(argv: Sequence[str] | None = None, *, client_factory: ClientFactory | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--regions", nargs="+", metavar="REGION", help="regions to survey")
    where.add_argument(
        "--all-regions", action="store_true", help="every region enabled for the account"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="data file to write")
    parser.add_argument("--profile", help="AWS profile (default: the usual credential chain)")
    parser.add_argument("--source", help="text for the file's source stamp")
    parser.add_argument(
        "--from-moto",
        action="store_true",
        help="replay moto's recorded EC2 data instead of calling AWS (--all-regions = every "
        "region moto has offerings for)",
    )
    args = parser.parse_args(argv)

    context: AbstractContextManager[Any] = nullcontext()
    source = API_SOURCE
    if args.from_moto:
        context, moto_factory, source = _moto_context()
        client_factory = client_factory or moto_factory
    factory = client_factory or boto3_client_factory(args.profile)
    with context:
        regions: list[str] = args.regions or []
        if args.all_regions:
            if args.from_moto:
                regions = _moto_regions()
            else:
                response = factory("us-east-1").describe_regions(AllRegions=False)
                regions = sorted(r["RegionName"] for r in response["Regions"])
        document = build_document(
            regions, factory, source=args.source or source, log=lambda m: print(m, file=sys.stderr)
        )
    write_document(document, args.output)
    size = args.output.stat().st_size
    print(
        f"wrote {len(document['instance_types'])} instance types, {len(regions)} regions, "
        f"{size / 1e6:.2f} MB to {args.output}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
