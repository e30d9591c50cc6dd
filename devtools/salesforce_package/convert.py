"""Convert ``salesforce/`` to Metadata API format offline with Salesforce's own library (convert.cjs).

``@salesforce/source-deploy-retrieve`` (pinned in package-lock.json) is the code behind ``sf project convert
source`` and ``sf project deploy start``: a file it can't place (a wrong folder or suffix, an unknown type,
a child without its parent) fails here as it would fail the admin's deploy. No org, no login, no telemetry.
Node: the library's current line declares Node >= 22 only through its HTTP client (undici 8, used for org
connections, never for a conversion); package.json's ``overrides`` pins undici 7, so it runs on Node 20 too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devtools.salesforce_sim.package import PACKAGE_ROOT, package_directories

SCRIPT = Path(__file__).with_name("convert.cjs")
NODE_MODULES = PACKAGE_ROOT.parent / "node_modules"
# The Salesforce tooling's own switches: no usage data, no update checks (offline, reproducible).
QUIET_ENV = {
    "SF_DISABLE_TELEMETRY": "true",
    "SFDX_DISABLE_TELEMETRY": "true",
    "SF_AUTOUPDATE_DISABLE": "true",
    "SFDX_AUTOUPDATE_DISABLE": "true",
    "SF_SKIP_NEW_VERSION_CHECK": "true",
}


class ConversionError(Exception):
    """The library refused the source; the message is its own."""


@dataclass(frozen=True)
class Converted:
    """One package directory in Metadata API format: ``manifest`` is its package.xml text."""

    directory: str
    output: Path
    manifest: str
    components: list[dict[str, str]]


def node() -> str:
    """The node executable; ConversionError when it or the pinned library is missing (`make deps`)."""
    executable = shutil.which("node")
    if executable is None or not (NODE_MODULES / "@salesforce" / "source-deploy-retrieve").is_dir():
        raise ConversionError("node and node_modules/@salesforce/source-deploy-retrieve are needed: run `make deps`")
    return executable


def convert(source: Path, output: Path, timeout: float = 120) -> Converted:
    """Convert one package directory (e.g. ``salesforce/force-app``) into ``output``."""
    env = {**os.environ, **QUIET_ENV, "NODE_PATH": str(NODE_MODULES)}
    result = subprocess.run(
        [node(), str(SCRIPT), str(source), str(output)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=PACKAGE_ROOT.parent,
        check=False,
    )
    if result.returncode != 0:
        raise ConversionError(result.stderr.strip() or f"convert.cjs exited {result.returncode}")
    summary = json.loads(result.stdout)
    return Converted(source.name, output, summary["manifest"], summary["components"])


def convert_all(output_root: Path, root: Path = PACKAGE_ROOT) -> list[Converted]:
    """Every package directory of ``sfdx-project.json``, each into ``output_root/<directory>``."""
    return [convert(root / d, output_root / d) for d in package_directories(root)]
