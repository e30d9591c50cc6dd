"""The words the sync reports, in an admin's terms: one glossary for `sfsync --help`, `make run` and the docs.

Two vocabularies, kept apart on purpose:
- an **outcome** is what the worker did with one change (log lines ``synced``, metrics, ``sfsync status``);
- a **verdict** is what reconcile found when it compared an account with its Stripe customer.
``tests/unit/test_glossary.py`` fails when an outcome or verdict has no entry here; the docs' glossary page
(docs/reference/glossary.md) is generated from it by ``python -m devtools.docs``.
"""

from __future__ import annotations

import textwrap

OUTCOMES: dict[str, str] = {
    "created": "a Stripe customer was created for the account and its id written back to the Stripe ID field",
    "updated": "the account's customer was updated with the fields that changed",
    "unchanged": "the mapped fields already matched the customer: no Stripe call",
    "stale": "the change was older than data already applied (a late or repeated message): nothing to do",
    "no_customer": "the account needs no customer (yet): no activated order (R1), or it is a parent account (R2)",
    "contact_unused": "a contact changed that no customer's fields draw on: nothing to do",
    "skipped_deleted": "the record was deleted in Salesforce before the sync read it: Stripe is left as it is (R11)",
    "skipped_merged": "the account was merged away: its customer stays as it is (R9, R13)",
    "permanent_error": "the account as a whole can't be synced until someone fixes it (its Id, its Stripe ID, the "
    "setup); the problem is named in the account's sync error field and in `sfsync status`. A single field Stripe "
    "can't take is not an error but a field warning: the customer is synced without it",
    "duplicate": "the same notification or event arrived again and was recognised: nothing done twice",
}

VERDICTS: dict[str, str] = {
    "ok": "the customer matches the account",
    "missing": "the account should have a customer and has none: --apply queues a sync that creates it",
    "out_of_date": "Salesforce holds newer data than the customer: a change whose message never arrived; "
    "--apply queues a sync",
    "different": "the customer's mapped fields differ (edited in Stripe, R8: Salesforce wins), or its id was "
    "never written back: --apply queues a sync",
    "deleted_customer": "the account's customer was deleted in Stripe (R10): put the right customer's id into "
    "the Stripe ID field; nothing is created silently",
    "invalid": "the account as a whole can't be mapped (e.g. an unusable Id): fix it in Salesforce",
    "not_written_back": "the customer is right, but Salesforce refused to take its id (a validation rule, no "
    "edit access; sfsync status shows why): fix that, then --apply queues a sync that writes it",
    "duplicate_customers": "more than one Stripe customer names the account in metadata.salesforce_account_id; "
    "all their ids are listed: keep the account's own, and archive or re-tag the others in Stripe",
    "claimed_by_other_customer": "a customer names the account in its metadata, but the account's Stripe ID names "
    "a different customer: both ids are listed; decide which one is the account's",
    "customer_of_other_account": "the account's Stripe ID names a customer whose metadata names another account "
    "(a typed or merged Stripe ID): both ids are listed; nothing is queued, a sync would overwrite the other "
    "account's customer",
    "unclaimed_customer": "the account's Stripe ID names a customer that names no Salesforce account (a web-shop "
    "sign-up, one made by hand): the sync does not change it until it is adopted (sfsync adopt ACCOUNT CUSTOMER, "
    "or --from a saved report); nothing is queued",
    "check_failed": "reconcile could not check the account (e.g. its Stripe ID belongs to the other Stripe mode); "
    "the reason is listed and the run goes on (--strict makes the exit status 1)",
}


def help_text() -> str:
    """The glossary as plain text for ``sfsync --help``."""
    width = max(len(word) for word in (*OUTCOMES, *VERDICTS))

    def entry(word: str, meaning: str) -> str:
        return textwrap.fill(
            meaning, width=100, initial_indent=f"  {word:<{width}}  ", subsequent_indent=" " * (width + 4)
        )

    lines = ["outcomes (what the worker did with a change):"]
    lines += [entry(word, meaning) for word, meaning in OUTCOMES.items()]
    lines.append("verdicts (what reconcile found):")
    lines += [entry(word, meaning) for word, meaning in VERDICTS.items()]
    return "\n".join(lines)


def markdown_table() -> str:
    """The glossary as Markdown tables: outcomes, a blank line, verdicts (docs/reference/glossary.md)."""
    lines = ["| outcome | what the worker did |", "|---|---|"]
    lines += [f"| `{word}` | {meaning} |" for word, meaning in OUTCOMES.items()]
    lines += ["", "| verdict | what reconcile found |", "|---|---|"]
    lines += [f"| `{word}` | {meaning} |" for word, meaning in VERDICTS.items()]
    return "\n".join(lines)
