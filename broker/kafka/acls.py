"""Who may do what on the bus: the desired ACLs, derived from the party registry.

Each organiser may describe and read its own `silta.to.<org>.*` topics,
describe and write its own `silta.from.<org>.*` topics, and use consumer
groups prefixed `<org>.`; a municipality (immigrant notices) likewise reads its
own `silta.to.kunta-NNN.*`. Silta gets what its own work needs. Nobody gets
anything else: the broker denies whatever no ACL allows. No I/O here; the
admin that reads and changes the cluster's ACLs is `broker.kafka.acl_admin`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from broker.domain.parties import all_organisers
from broker.domain.routing import MunicipalityTable
from broker.kafka.credentials import SILTA_PRINCIPAL


class ResourceType(IntEnum):
    """Kafka's resource types, by their protocol codes."""

    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5


class PatternType(IntEnum):
    """How a binding's resource name matches: exactly, or as a prefix."""

    ANY = 1
    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):
    """Kafka's ACL operations, by their protocol codes."""

    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12


class Permission(IntEnum):
    """Allow or deny."""

    ANY = 1
    DENY = 2
    ALLOW = 3


CLUSTER = "kafka-cluster"


@dataclass(frozen=True, order=True)
class AclBinding:
    """One ACL: a principal may (or may not) do an operation on a resource, from a host."""

    principal: str
    resource_type: ResourceType
    resource_name: str
    pattern_type: PatternType
    operation: Operation
    permission: Permission = Permission.ALLOW
    host: str = "*"

    def __str__(self) -> str:
        pattern = "prefix" if self.pattern_type is PatternType.PREFIXED else "name"
        return (
            f"{self.principal} {self.permission.name.lower()} {self.operation.name} "
            f"{self.resource_type.name.lower()} {pattern}={self.resource_name} host={self.host}"
        )


def municipality_parties() -> list[str]:
    """`kunta-NNN` for every mainland municipality that is not merged into another."""
    return sorted({f"kunta-{m.code}" for m in MunicipalityTable.shipped() if m.county_code and not m.merged_into})


def bus_principals() -> list[str]:
    """Every principal that connects to the bus: Silta, the 22 organisers, the municipalities."""
    return [SILTA_PRINCIPAL, *all_organisers(), *municipality_parties()]


def _allow(principal: str, kind: ResourceType, name: str, pattern: PatternType, *ops: Operation) -> set[AclBinding]:
    return {AclBinding(f"User:{principal}", kind, name, pattern, op) for op in ops}


def party_acls(party: str, *, writes: bool) -> set[AclBinding]:
    """A party's own topics and consumer groups; only organisers write (`silta.from.<org>.*`)."""
    prefixed = PatternType.PREFIXED
    bindings = _allow(party, ResourceType.TOPIC, f"silta.to.{party}.", prefixed, Operation.READ, Operation.DESCRIBE)
    bindings |= _allow(party, ResourceType.GROUP, f"{party}.", prefixed, Operation.READ, Operation.DESCRIBE)
    if writes:
        bindings |= _allow(
            party, ResourceType.TOPIC, f"silta.from.{party}.", prefixed, Operation.WRITE, Operation.DESCRIBE
        )
    return bindings


def silta_acls(group_prefix: str = "silta-") -> set[AclBinding]:
    """What Silta's own work needs, so that a deployment may run it without super-user rights.

    Read the organisers' from-topics in its groups, write every to-topic, create
    its topics at start, and describe the cluster (readiness, ACL diff).
    """
    prefixed, literal = PatternType.PREFIXED, PatternType.LITERAL
    topic, group, cluster = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER
    return (
        _allow(SILTA_PRINCIPAL, topic, "silta.from.", prefixed, Operation.READ, Operation.DESCRIBE)
        | _allow(SILTA_PRINCIPAL, topic, "silta.to.", prefixed, Operation.WRITE, Operation.DESCRIBE)
        | _allow(SILTA_PRINCIPAL, topic, "silta.", prefixed, Operation.CREATE, Operation.DESCRIBE_CONFIGS)
        | _allow(SILTA_PRINCIPAL, group, group_prefix, prefixed, Operation.READ, Operation.DESCRIBE)
        | _allow(SILTA_PRINCIPAL, cluster, CLUSTER, literal, Operation.DESCRIBE, Operation.IDEMPOTENT_WRITE)
    )


def desired_acls() -> set[AclBinding]:
    """The whole desired set: Silta's, every organiser's and every municipality's."""
    bindings = silta_acls()
    for org in all_organisers():
        bindings |= party_acls(org, writes=True)
    for municipality in municipality_parties():
        bindings |= party_acls(municipality, writes=False)
    return bindings


@dataclass(frozen=True)
class AclDiff:
    """What makes the cluster match the desired set: bindings to add and bindings to remove."""

    missing: frozenset[AclBinding]
    extra: frozenset[AclBinding]

    @property
    def in_sync(self) -> bool:
        """True when the cluster already has exactly the desired set."""
        return not self.missing and not self.extra

    def lines(self) -> list[str]:
        """`+ binding` for each one to add, `- binding` for each one to remove, sorted."""
        return [f"+ {b}" for b in sorted(self.missing)] + [f"- {b}" for b in sorted(self.extra)]


def diff_acls(desired: set[AclBinding], actual: set[AclBinding]) -> AclDiff:
    """The difference between the desired set and the cluster's."""
    return AclDiff(frozenset(desired - actual), frozenset(actual - desired))
