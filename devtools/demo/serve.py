"""``make serve``: the local stack left running until Ctrl-C, described in ``.local/stack.json``.

Seeds the demo org (one account's order already activated, its first message not sent yet), prints the demo
accounts and the commands to try, and then tells on the terminal what goes wrong: every batch with failures
and every message moved to the dead-letter queue. The mapping is checked before anything starts (the worker's
own error text), and a mapping *file* (``MAPPING_CONFIG=path.json``) is watched: a change is checked and
picked up by a fresh worker, keeping the org, its ids, the endpoint token and Stripe's data.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import warnings
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, TextIO

from devtools.demo.run import Demo
from devtools.local_runtime.processes import REPO_ROOT
from devtools.local_runtime.sqs_poller import BatchReport
from devtools.local_runtime.stack import LocalStack, StackOptions
from devtools.private_files import write_private_text
from shared.mapping import MappingConfigError, load_mapping

STATE_DIR = REPO_ROOT / ".local"
STACK_JSON = STATE_DIR / "stack.json"
LOG_PATH = STATE_DIR / "serve.log"
READY_ACCOUNT = "Example Ltd"  # its order is activated while seeding; `make send` delivers its first message
WATCH_SECONDS = 1.0


def check_mapping(mapping: str) -> str | None:
    """The error the worker's cold start would give for ``mapping`` (a preset name or a file), or None."""
    try:
        load_mapping(mapping)
    except MappingConfigError as exc:
        return str(exc)
    return None


def seed(stack: LocalStack, out: TextIO) -> Demo:
    """The demo org, with one activated order whose Outbound Message was not sent (ready for `make send`)."""
    demo = Demo(stack, out)
    demo.seed()
    definitions = stack.sim.outbound.definitions
    for definition in definitions:
        definition.active = False  # as if the order had been activated before the Flow existed
    try:
        stack.sim.update("Order", demo.orders[READY_ACCOUNT], {"Status": "Activated"})
    finally:
        for definition in definitions:
            definition.active = True
    return demo


def welcome(stack: LocalStack, demo: Demo | None, out: TextIO) -> None:
    """What is running, the demo accounts, and the commands to try."""
    info = stack.info
    print(f"Local stack is up; details in {STACK_JSON.relative_to(REPO_ROOT)}:", file=out)
    for key in ("outbound_message_url", "stripe_api_base", "salesforce_instance_url", "organization_id"):
        print(f"  {key:<24} {info[key]}", file=out)
    if demo is not None:
        print("\nDemo accounts (name, id, activated order):", file=out)
        activated = {demo.accounts[READY_ACCOUNT]}
        for name, account_id in demo.accounts.items():
            print(f"  {name:<20} {account_id}  {'yes' if account_id in activated else 'no'}", file=out)
        ready, draft = demo.accounts[READY_ACCOUNT], demo.accounts["Muster GmbH"]
        tries = [
            (f"make send ACCOUNT={ready}", f"{READY_ACCOUNT}'s first Outbound Message: its customer is created"),
            (f"make org ARGS='activate {draft}'", "activate Muster GmbH's order: Salesforce sends the message"),
            (f"make org ARGS='update Account {draft} BillingCity=Hamburg'", "edit an account, as a user would"),
            (f".venv/bin/sfsync --stack .local/stack.json status {ready}", "what the sync knows of an account"),
            (f"make org ARGS='sync-now {ready}'", "press Sync to Stripe now: the result in its Stripe Sync Records"),
            ("make org ARGS=accounts", "every account, its order, Stripe ID and sync status"),
        ]
        width = max(len(command) for command, _ in tries)
        print('\nTry, in a second terminal (docs: Try it locally, "Leave it running"):', file=out)
        for command, what in tries:
            print(f"  {command:<{width}}  {what}", file=out)
    print("Failed batches and dead-lettered messages are reported here. Press Ctrl-C to stop.", file=out, flush=True)


class Watchers:
    """Background checks that print to the terminal: the DLQ's depth and the mapping file."""

    def __init__(self, stack: LocalStack, out: TextIO, stop: threading.Event) -> None:
        self.stack, self.out, self.stop = stack, out, stop
        self.dlq_depth = stack.dlq_depth()
        mapping = stack.function_env.get("MAPPING_CONFIG", "")
        self.mapping_file = Path(mapping) if mapping.endswith(".json") else None
        self.mapping_mtime = self.mapping_file.stat().st_mtime if self.mapping_file else 0.0
        self.log_offset = LOG_PATH.stat().st_size
        self.reported: set[str] = set()

    def on_batch(self, report: BatchReport) -> None:
        """One line for every batch with failures (the details are in the log)."""
        if report.failed:
            cause = f": {report.error}" if report.error else " (see the log for each message's error)"
            print(
                f"worker: {report.failed} of {report.messages} message(s) failed, will be retried{cause}",
                file=self.out,
                flush=True,
            )

    def run(self) -> None:
        """Until stopped: report the handlers' warnings and errors, DLQ arrivals, and a changed mapping file."""
        while not self.stop.wait(WATCH_SECONDS):
            self._check_log()
            self._check_dlq()
            self._check_mapping()

    def _check_log(self) -> None:
        # The handlers' own warning and error lines (already redacted by their log formatter), once each.
        with LOG_PATH.open("rb") as log:
            log.seek(self.log_offset)
            chunk = log.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.log_offset += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            text = _problem(line)
            if text and text not in self.reported:
                self.reported.add(text)
                print(text, file=self.out, flush=True)

    def _check_dlq(self) -> None:
        depth = self.stack.dlq_depth()
        if depth > self.dlq_depth:
            print(
                f"dead-letter queue: {depth - self.dlq_depth} message(s) moved there (now {depth}); see "
                "`.venv/bin/sfsync --stack .local/stack.json redrive --dry-run`",
                file=self.out,
                flush=True,
            )
        self.dlq_depth = depth

    def _check_mapping(self) -> None:
        if self.mapping_file is None or not self.mapping_file.exists():
            return
        mtime = self.mapping_file.stat().st_mtime
        if mtime == self.mapping_mtime:
            return
        self.mapping_mtime = mtime
        error = check_mapping(str(self.mapping_file))
        if error:
            print(
                f"mapping {self.mapping_file}: not loaded, the previous one stays: {error}", file=self.out, flush=True
            )
            return
        self.stack.reload_worker(str(self.mapping_file))
        print(f"mapping {self.mapping_file}: reloaded (a fresh worker uses it from now on)", file=self.out, flush=True)
        report_org_fit(self.stack, self.out)


def report_org_fit(stack: LocalStack, out: TextIO) -> None:
    """Say at once when the mapping does not fit the org (the worker's cold-start check, run now)."""
    from shared.errors import ConfigurationError

    try:
        stack.worker.COMPONENTS.validate_against_org()
    except ConfigurationError as exc:
        print(
            f"mapping: {exc} — every batch fails until the org has the field (make org ARGS='add-field …') or "
            "the mapping changes",
            file=out,
            flush=True,
        )
    except Exception as exc:  # the org unreachable: the worker checks again on its first batch
        print(f"mapping: not checked against the org ({type(exc).__name__}); the worker will", file=out, flush=True)


def _problem(line: str) -> str | None:
    """A handler's WARNING/ERROR log line as one terminal line (message and error), else None."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("level") not in ("WARNING", "ERROR", "CRITICAL"):
        return None
    error = record.get("error") or record.get("reason") or ""
    return f"{record['level'].lower()}: {record.get('message')}{': ' + str(error)[:300] if error else ''}"


def _write_stack_json(info: dict[str, Any]) -> None:
    # Owner-only, also when an older run left it readable: it holds the local endpoint token and the
    # emulators' throwaway keys.
    write_private_text(STACK_JSON, json.dumps(info, indent=2) + "\n")


def running_serve(path: Path = STACK_JSON) -> int | None:
    """The process id of the ``make serve`` that wrote ``path`` when it is still running, else None."""
    try:
        pid = int(json.loads(path.read_text()).get("serve_pid") or 0)
    except (OSError, ValueError, AttributeError):
        return None
    if pid <= 0 or pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return None  # left behind by a serve that was killed: taken over
    except PermissionError:
        return pid  # exists, another user's
    return pid


def main() -> int:
    """Check the mapping, start, seed, write stack.json, report failures until SIGINT/SIGTERM, stop cleanly."""
    out = sys.stdout
    running = running_serve()
    if running is not None:
        print(
            f"make serve: a local stack is already running (process {running}, {STACK_JSON.relative_to(REPO_ROOT)}); "
            "use it, or stop it with Ctrl-C in its terminal first. Nothing started.",
            file=out,
        )
        return 2
    options = StackOptions.from_env()
    error = check_mapping(options.mapping)
    if error:
        print(f"make serve: the mapping {options.mapping!r} can't be used, nothing started: {error}", file=out)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    warnings.filterwarnings("ignore", "No application metrics to publish")
    STATE_DIR.mkdir(exist_ok=True)
    with LOG_PATH.open("w") as log, redirect_stdout(log), LocalStack(options) as stack:
        # The local runtime's own messages (handler tracebacks) go to the log, next to the handlers' lines.
        runtime_log = logging.getLogger("devtools.local_runtime")
        runtime_log.addHandler(logging.StreamHandler(log))
        runtime_log.propagate = False
        demo = seed(stack, out) if stack.sim is not None else None
        watchers = Watchers(stack, out, stop)
        stack.poller.on_batch = watchers.on_batch
        stack.start_polling()
        _write_stack_json({**stack.info, "log_file": str(LOG_PATH), "serve_pid": os.getpid()})
        welcome(stack, demo, out)
        report_org_fit(stack, out)
        if watchers.mapping_file is not None:
            print(f"Watching {watchers.mapping_file}: a saved change is checked and picked up.", file=out, flush=True)
        watchers.run()
        print("Stopping …", file=out, flush=True)
    STACK_JSON.unlink(missing_ok=True)
    print("Stopped every process.", file=out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
