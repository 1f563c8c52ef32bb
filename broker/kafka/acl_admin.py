"""Read and change the cluster's ACLs over Kafka's own protocol, with aiokafka's connection.

aiokafka's admin client has no ACL calls, but aiokafka ships the protocol
structures (DescribeAcls, CreateAcls, DeleteAcls, version 1) and a public
`AIOKafkaClient` that sends any request over the same TLS and SCRAM setup as
the rest of Silta. That keeps `silta kafka acls` one Python process with no
JVM on the operator's machine, and one place for the bus's security settings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from aiokafka import AIOKafkaClient
from aiokafka.errors import for_code
from aiokafka.protocol.admin import (
    CreateAclsRequest_v1,
    DeleteAclsRequest_v1,
    DescribeAclsRequest_v1,
)
from aiokafka.protocol.api import Request

from broker.kafka.acls import AclBinding, AclDiff, Operation, PatternType, Permission, ResourceType, diff_acls
from broker.kafka.connection import KafkaConnection

_BATCH = 200


class AclAdminError(RuntimeError):
    """The broker refused an ACL request; the message names Kafka's error."""


class _Describe(Request[DescribeAclsRequest_v1]):  # type: ignore[misc]  # aiokafka's protocol is untyped
    API_KEY = 29

    def build(self, request_struct_class: type[DescribeAclsRequest_v1]) -> DescribeAclsRequest_v1:
        any_ = 1
        return request_struct_class(ResourceType.ANY, None, PatternType.ANY, None, None, any_, Permission.ANY)


class _Create(Request[CreateAclsRequest_v1]):  # type: ignore[misc]
    API_KEY = 30

    def __init__(self, bindings: list[AclBinding]) -> None:
        self._bindings = bindings

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class([_fields(b) for b in self._bindings])


class _Delete(Request[DeleteAclsRequest_v1]):  # type: ignore[misc]
    API_KEY = 31

    def __init__(self, bindings: list[AclBinding]) -> None:
        self._bindings = bindings

    def build(self, request_struct_class: type[DeleteAclsRequest_v1]) -> DeleteAclsRequest_v1:
        return request_struct_class([_fields(b) for b in self._bindings])


def _fields(b: AclBinding) -> tuple[Any, ...]:
    return (b.resource_type, b.resource_name, b.pattern_type, b.principal, b.host, b.operation, b.permission)


def _check(error_code: int, error_message: str | None) -> None:
    if error_code:
        raise AclAdminError(f"{for_code(error_code).__name__}: {error_message or 'no detail'}")


class AclAdmin:
    """The cluster's ACLs: list them, and make them match a desired set."""

    def __init__(self, connection: KafkaConnection, request_timeout_ms: int = 30_000) -> None:
        self._client = AIOKafkaClient(**connection.client_options(), request_timeout_ms=request_timeout_ms)

    async def __aenter__(self) -> AclAdmin:
        await self._client.bootstrap()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._client.close()

    async def _send(self, request: Request[Any]) -> Any:  # noqa: ANN401  responses are aiokafka's dynamic structs
        return await self._client.send(self._client.get_random_node(), request)

    async def bindings(self) -> set[AclBinding]:
        """Every ACL the cluster holds."""
        response = await self._send(_Describe())
        _check(response.error_code, response.error_message)
        found: set[AclBinding] = set()
        for kind, name, pattern, acls in response.resources:
            for principal, host, operation, permission in acls:
                found.add(
                    AclBinding(
                        principal,
                        ResourceType(kind),
                        name,
                        PatternType(pattern),
                        Operation(operation),
                        Permission(permission),
                        host,
                    )
                )
        return found

    async def diff(self, desired: set[AclBinding]) -> AclDiff:
        """What the cluster lacks and what it has beyond `desired`."""
        return diff_acls(desired, await self.bindings())

    async def apply(self, desired: set[AclBinding]) -> AclDiff:
        """Add the missing bindings and remove the extra ones; returns what it changed (empty when in sync)."""
        change = await self.diff(desired)
        await self.create(change.missing)
        await self.delete(change.extra)
        return change

    async def create(self, bindings: Iterable[AclBinding]) -> None:
        """Add bindings (adding one the cluster holds already changes nothing); returns once they are in force."""
        wanted = set(bindings)
        for batch in _batches(sorted(wanted)):
            response = await self._send(_Create(batch))
            for error_code, error_message in response.creation_responses:
                _check(error_code, error_message)
        await self._until(lambda held: wanted <= held)

    async def delete(self, bindings: Iterable[AclBinding]) -> None:
        """Remove exactly these bindings; returns once they are gone."""
        unwanted = set(bindings)
        for batch in _batches(sorted(unwanted)):
            response = await self._send(_Delete(batch))
            for error_code, error_message, _matching in response.filter_responses:
                _check(error_code, error_message)
        await self._until(lambda held: not unwanted & held)

    async def _until(self, holds: Callable[[set[AclBinding]], bool], timeout_s: float = 15.0) -> None:
        """The controller commits a change before the broker we ask has it in its metadata: wait for that."""
        async with asyncio.timeout(timeout_s):
            while not holds(await self.bindings()):  # noqa: ASYNC110  polling the broker: no event to wait on
                await asyncio.sleep(0.1)


def _batches(bindings: Iterable[AclBinding]) -> Iterable[list[AclBinding]]:
    batch: list[AclBinding] = []
    for binding in bindings:
        batch.append(binding)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
