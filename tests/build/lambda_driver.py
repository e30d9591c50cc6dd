"""Run one Lambda handler the way the Lambda runtime does: import the handler module cold, invoke it once.

Executed by ``test_sam_build.py`` in a *separate* CPython 3.13 (the Lambda runtime's version) with
``-S -P -B``: no site-packages, no script or working directory on ``sys.path``, no bytecode written (Lambda's
``/var/task`` is read-only), and ``PYTHONPATH`` = the function's build folder (plus, for functions that
don't ship boto3, a folder holding the boto3 the Lambda runtime provides). Standard library only.

Usage: ``python3.13 -S -P -B lambda_driver.py HANDLER EVENT_FILE RESULT_FILE TIMEOUT_SECONDS``. The result
file gets JSON: the handler's return value, the cold-start import time, and every loaded module file that lies
outside the ``PYTHONPATH`` folders and the standard library (which must be none).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import sysconfig
import time
import uuid
from pathlib import Path


class LambdaContext:
    """The context attributes Powertools reads."""

    def __init__(self, function_name: str, timeout_seconds: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "build-check"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the (simulated) timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _outside(roots: list[Path]) -> dict[str, str]:
    stdlib = [Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib")]
    site = [Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")]
    found: dict[str, str] = {}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        if path == Path(__file__).resolve():
            continue  # this driver (``__main__``)
        in_roots = any(path.is_relative_to(root) for root in roots)
        in_stdlib = any(path.is_relative_to(p) for p in stdlib) and not any(path.is_relative_to(p) for p in site)
        if not (in_roots or in_stdlib):
            found[name] = str(path)
    return found


def main() -> None:
    """Import, invoke, report."""
    handler_path, event_file, result_file, timeout = sys.argv[1:5]
    roots = [Path(p).resolve() for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    module_name, _, function_name = handler_path.rpartition(".")
    started = time.perf_counter()
    handler = getattr(importlib.import_module(module_name), function_name)
    init_ms = (time.perf_counter() - started) * 1000
    event = json.loads(Path(event_file).read_text())
    started = time.perf_counter()
    context = LambdaContext(os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "build-check"), float(timeout))
    result = handler(event, context)
    invoke_ms = (time.perf_counter() - started) * 1000
    report = {
        "result": result,
        "init_ms": round(init_ms, 1),
        "invoke_ms": round(invoke_ms, 1),
        "python": sys.version.split()[0],
        "sys_path": sys.path,
        "outside": _outside(roots),
        "top_level_modules": sorted({name.split(".")[0] for name in sys.modules}),
    }
    Path(result_file).write_text(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
