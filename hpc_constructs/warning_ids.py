"""Every warning the library emits, by its stable id (stdlib only, so docs tools read it).

Acknowledge one on the construct that carries it, once you have read it::

    cdk.Validations.of(fleet).acknowledge(
        cdk.Acknowledgment(id=hc.warning_ids.EFA_DISABLED, reason="TCP is enough for this app")
    )

``errors.warn`` refuses an id that is not listed here, so this list is complete.
"""

from __future__ import annotations

from typing import Final

PREFIX: Final = "hpc-constructs:"

#: ``efa=False`` on an EFA-capable instance type: MPI/NCCL traffic falls back to TCP over ENA.
EFA_DISABLED: Final = PREFIX + "efaDisabled"
#: A Capacity Reservation without the placement group it was created in: no new group is made
#: (a reservation serves only launches into its own group).
RESERVATION_WITHOUT_PLACEMENT_GROUP: Final = PREFIX + "reservationWithoutPlacementGroup"
#: Several instance types share one cluster placement group (more capacity errors).
MIXED_TYPES_IN_PLACEMENT_GROUP: Final = PREFIX + "mixedTypesInPlacementGroup"
#: A scratch Lustre file system with no data repository exporting to S3 (data not replicated).
SCRATCH_WITHOUT_EXPORT: Final = PREFIX + "scratchWithoutExport"
#: A persistent Lustre file system with no backups and no S3 link.
PERSISTENT_WITHOUT_BACKUP: Final = PREFIX + "persistentWithoutBackup"
#: A data repository bucket encrypted with an imported KMS key FSx could not be granted.
DATA_REPOSITORY_KEY_NOT_GRANTED: Final = PREFIX + "dataRepositoryKeyNotGranted"
#: A fabric without internet access that lacks the endpoints its nodes need.
ISOLATED_WITHOUT_ENDPOINTS: Final = PREFIX + "isolatedWithoutEndpoints"
#: A Spot pool of one instance family (BatchGrid): when that family runs short, every task waits.
SINGLE_FAMILY_SPOT_POOL: Final = PREFIX + "singleFamilySpotPool"
#: A ParallelCluster DirectoryService over ldap:// or with an LdapTlsReqCert that does not check
#: the server certificate (never, allow, try): passwords readable or redirectable on the network.
DIRECTORY_SERVICE_INSECURE: Final = PREFIX + "directoryServiceInsecure"
#: An FSx for Lustre file system on an HpcDashboard whose capacity is unknown (imported): no
#: free-capacity alarm unless a capacity or a GiB threshold is given.
LUSTRE_CAPACITY_UNKNOWN: Final = PREFIX + "lustreCapacityUnknown"
#: An HpcBudget notifying an imported SNS topic whose policy cannot let AWS Budgets publish.
BUDGET_TOPIC_POLICY_NOT_ADDED: Final = PREFIX + "budgetTopicPolicyNotAdded"

#: Every id above.
ALL: Final[frozenset[str]] = frozenset(
    value
    for name, value in dict(globals()).items()
    if name.isupper() and name not in ("PREFIX",) and isinstance(value, str)
)
