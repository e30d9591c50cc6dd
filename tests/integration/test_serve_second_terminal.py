"""The second terminal beside ``make serve``: what ``make org`` and ``make send`` say, and a second ``make serve``.

A typo in ``make org`` gets Salesforce's own refusal (REST API errors are a JSON list of errorCode and
message: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm), never a
traceback; ``make send`` shows the field warnings of an ``unchanged`` result; a second ``make serve`` refuses
to start instead of taking over ``.local/stack.json``.
"""

from __future__ import annotations

import json

from tests.integration.test_make_run_serve import STACK_JSON, Served, _first_account, _run


def test_the_second_terminal_gets_plain_answers_and_a_second_serve_refuses() -> None:
    # Given make serve running (a customer for every account)
    serve = Served({"CREATION_MODE": "every_account", "MAPPING_CONFIG": "standard"})
    try:
        account_id = _first_account(serve)
        # When the user misspells a field in make org
        typo = _run("-m", "devtools.demo.org", "update", "Account", account_id, "BillingCitty=Hamburg")
        # Then Salesforce's refusal is printed, naming the field, without a traceback
        assert typo.returncode == 1
        assert "Salesforce refused it (400): INVALID_FIELD" in typo.stderr and "BillingCitty" in typo.stderr
        assert "Traceback" not in typo.stderr + typo.stdout
        # And a change without "=" is a usage error
        usage = _run("-m", "devtools.demo.org", "update", "Account", account_id, "BillingCity")
        assert usage.returncode == 2 and "FIELD=VALUE" in usage.stderr and "Traceback" not in usage.stderr

        # Given the account's phone made too long for Stripe (left out, with a warning naming the field)
        edited = _run("-m", "devtools.demo.org", "update", "Account", account_id, f"Phone=+49 30 {'1' * 30}")
        assert edited.returncode == 0 and "warning: " in edited.stdout, edited.stdout + edited.stderr
        # When the user sends the account's message again (nothing else changed)
        sent = _run("-m", "devtools.demo.org", "send", account_id)
        # Then the worker's "unchanged" comes with the warning naming the Salesforce field
        assert "worker: unchanged" in sent.stdout, sent.stdout
        assert "warning: Phone" in sent.stdout, sent.stdout

        # When a second make serve starts in the same checkout
        before = STACK_JSON.read_text()
        second = _run("-m", "devtools.demo.serve")
        # Then it refuses, naming the running one, and leaves the first one's stack.json alone
        assert second.returncode == 2 and "already running" in second.stdout, second.stdout
        assert STACK_JSON.read_text() == before and json.loads(before)["serve_pid"] == serve.process.pid
    finally:
        serve.stop()
