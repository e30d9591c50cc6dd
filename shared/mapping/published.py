"""The published mapping: an SSM String parameter, its versions, and the newest one that fits the org.

A deployed stack whose ``MappingConfig`` names an SSM parameter reads its mapping from there
(``MAPPING_CONFIG_SSM_PARAMETER``). SSM keeps the last 100 versions of a parameter; ``GetParameterHistory``
returns them with their version numbers (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameterHistory.html,
"Parameter Store keeps up to 100 versions", https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html).
So "the last mapping that passed" needs no second copy: it is the newest version that parses and fits the org.
``sfsync mapping publish`` writes the new versions (``ops.mapping_cli``); the worker only reads them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from shared.mapping.config import MappingConfigError
from shared.mapping.mapper import CustomerMapping


@dataclass(frozen=True)
class PublishedVersion:
    """One version of the mapping parameter: SSM's version number and the mapping, or why it is unusable."""

    version: int
    mapping: CustomerMapping | None
    problem: str | None = None


def versions_newest_first(ssm: Any, name: str) -> Iterator[PublishedVersion]:
    """Every stored version of parameter ``name``, newest first (``ssm``: a boto3 SSM client).

    Raises botocore's ClientError (ParameterNotFound, AccessDenied) as SSM answers.
    """
    found: list[dict[str, Any]] = []
    for page in ssm.get_paginator("get_parameter_history").paginate(Name=name):
        found.extend(page.get("Parameters") or [])
    for item in sorted(found, key=lambda entry: int(entry["Version"]), reverse=True):
        yield _parsed(int(item["Version"]), str(item.get("Value") or ""))


def _parsed(version: int, text: str) -> PublishedVersion:
    try:
        return PublishedVersion(version, CustomerMapping.from_dict(json.loads(text)))
    except ValueError as exc:  # invalid JSON, or a MappingConfigError naming the entry
        return PublishedVersion(version, None, str(exc) if isinstance(exc, MappingConfigError) else "invalid JSON")


def newest_fitting(
    versions: Iterator[PublishedVersion], problems_of: Callable[[CustomerMapping], list[str]]
) -> PublishedVersion | None:
    """The newest version that parses and for which ``problems_of`` (the org check's errors) is empty."""
    for published in versions:
        if published.mapping is not None and not problems_of(published.mapping):
            return published
    return None
