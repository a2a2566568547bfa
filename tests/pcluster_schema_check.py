"""Check ParallelCluster configurations against ParallelCluster's own schema.

Runs inside the ParallelCluster schema venv (``pcluster-venv/`` in the user cache) (aws-parallelcluster pins CDK v1, so it cannot share the
project's virtual environment): ``python tests/pcluster_schema_check.py config.json ...``.
Only ``ClusterSchema().load`` runs (types, enums, required keys, cross-field schema rules);
ParallelCluster's validators that call AWS are not run. Network access is blocked so a schema
change that starts calling AWS fails loudly instead of reaching out.
"""

from __future__ import annotations

import json
import os
import socket
import sys

# The schema reads the region from the environment (pcluster.aws.common.get_region).
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-2")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "schema-check")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "schema-check")


def _no_network(*args: object, **kwargs: object) -> socket.socket:
    raise RuntimeError(f"pcluster_schema_check: network access attempted: {args!r}")


socket.create_connection = _no_network  # type: ignore[assignment]


def main(paths: list[str]) -> int:
    from marshmallow import ValidationError
    from pcluster.schemas.cluster_schema import ClusterSchema

    failures = 0
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
        try:
            ClusterSchema(cluster_name="schema-check").load(config)
        except ValidationError as err:
            failures += 1
            print(f"{path}: {json.dumps(err.messages, indent=2, default=str)}")
        else:
            print(f"{path}: OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
