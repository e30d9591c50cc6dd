"""Start and stop the local emulator processes (dynalite, moto server) on free 127.0.0.1 ports.

Every process is started by the tests or ``make`` targets themselves and stopped when they finish, so
nothing is left running on a developer's machine or in CI.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """An ephemeral TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


class ManagedProcess:
    """A child process serving HTTP on 127.0.0.1:port; a context manager that always stops it."""

    def __init__(self, name: str, command: list[str], port: int) -> None:
        self.name = name
        self.port = port
        self._command = command
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._process.pid if self._process else None

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ManagedProcess:
        """Start the process and wait until it listens."""
        # A file, not a pipe: moto server writes a line per request to stderr, and a pipe nobody reads fills
        # up (64 KiB, ~900 requests) and then blocks the server for good (measured in the reliability suite).
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            self._command,
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            start_new_session=True,
        )
        try:
            wait_for_port(self.port)
        except TimeoutError as exc:
            self._stderr.seek(0)
            output = self._stderr.read()[-2000:].decode("utf-8", "replace")
            self.stop()
            raise TimeoutError(f"{self.name} did not start: {exc}\n{output}") from None
        return self

    def stop(self) -> None:
        """Terminate the process (kill after 5 s)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self._process = None

    def __enter__(self) -> ManagedProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def dynalite(port: int | None = None) -> ManagedProcess:
    """dynalite (npm dev dependency): a race-free local DynamoDB, in memory."""
    if not (REPO_ROOT / "node_modules" / "dynalite").exists():
        raise FileNotFoundError("dynalite is not installed: run `make deps` (npm ci)")
    port = port or free_port()
    # Through a launcher that keeps it up when a client disconnects mid-request (see the file).
    launcher = REPO_ROOT / "devtools" / "local_runtime" / "dynalite_server.js"
    command = [shutil.which("node") or "node", str(launcher), "--port", str(port), "--host", "127.0.0.1"]
    return ManagedProcess("dynalite", [*command, "--createTableMs", "0"], port)


def moto_server(port: int | None = None, *, stock: bool = False) -> ManagedProcess:
    """moto server for SQS and the other AWS APIs the tests need, through ``devtools.local_runtime.moto_server``
    (moto's own server, its SQS queue attributes read in constant time: see that module). ``stock``: moto's
    server as released (``make bench`` measures the difference)."""
    port = port or free_port()
    if stock:
        moto = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
        command = [moto, "-H", "127.0.0.1", "-p", str(port)]
    else:
        command = [sys.executable, "-m", "devtools.local_runtime.moto_server", "-H", "127.0.0.1", "-p", str(port)]
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    return ManagedProcess("moto", command, port)
