"""``sfsync doctor``'s Stripe checks: the key and its mode, customer write access, the ids already in the org.

Stripe keeps test-mode and live-mode data apart and the key's prefix picks the mode (sk_test_ / sk_live_, rk_
for restricted keys; https://docs.stripe.com/keys#test-live-modes). A restricted key holds None / Read / Write
per resource; beyond them Stripe answers 403 (https://docs.stripe.com/keys/restricted-api-keys). An id of
the other mode is a 404 "No such customer: …; a similar object exists in live mode, but a test mode key was
used to make this request." — what a refreshed sandbox, which holds production's Account fields, meets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import stripe

from ops.checks import ERROR, OK, WARNING, Check
from shared.errors import ConfigurationError, SyncError
from shared.secrets import resolve_secret
from shared.stripe import check_key_mode, key_mode

if TYPE_CHECKING:
    from shared.components import Components

SAMPLE_SIZE = 10  # Stripe ids read from Salesforce and looked up (one Stripe read each)
# An id no customer can have: updating it answers 404 with write access and 403 without, changing nothing.
_PROBE_ID = "cus_sfsyncdoctorprobe0"


def checks(components: Components, *, salesforce_ok: bool) -> list[Check]:
    """The key and its mode, read and write access to customers, and a sample of the org's Stripe ids."""
    settings = components.settings
    source = "STRIPE_API_KEY_SECRET_NAME" if settings.stripe_api_key_secret_name else "STRIPE_API_KEY"
    try:
        api_key = str(resolve_secret(settings.stripe_api_key, settings.stripe_api_key_secret_name))
        check_key_mode(api_key, settings)
    except ConfigurationError as exc:
        return [Check(ERROR, "Stripe key", str(exc))]
    except Exception as exc:  # the secret could not be read (Secrets Manager): report it, check the rest
        return [Check(ERROR, "Stripe key", f"{source} could not be read ({type(exc).__name__})")]
    base_addresses: Any = {"api": settings.stripe_api_base} if settings.stripe_api_base else {}
    client = stripe.StripeClient(
        api_key,
        max_network_retries=1,
        http_client=stripe.RequestsClient(timeout=settings.stripe_timeout_seconds),
        base_addresses=base_addresses,
    )
    key = _key_check(client, api_key, source, settings.stripe_mode)
    if key.status == ERROR:
        return [key]
    found = [key, _write_check(client)]
    if _maps_tax_ids(components):
        found.append(_tax_id_check(client))
    if salesforce_ok:
        found.append(_sample_check(components, client))
    return found


def _key_check(client: stripe.StripeClient, api_key: str, source: str, wanted: Any) -> Check:
    what = "Stripe key"
    mode = key_mode(api_key)
    try:
        client.v1.customers.list(params={"limit": 1})
    except stripe.AuthenticationError:
        return Check(ERROR, what, f"Stripe refused the key in {source}: copy it again from the Stripe Dashboard "
                     "(Developers → API keys) for the right account and mode")  # fmt: skip
    except stripe.PermissionError:
        return Check(ERROR, what, f"the restricted key in {source} may not read customers: give it Write on "
                     "Customers (Dashboard → API keys → edit the key)")  # fmt: skip
    except stripe.StripeError as exc:
        return Check(ERROR, what, f"Stripe unreachable ({type(exc).__name__}): check STRIPE_API_BASE and the network")
    kind = "restricted " if api_key.startswith("rk_") else ""
    described = f"a {kind}{mode.value if mode else 'unknown'}-mode key"
    if wanted is None:
        return Check(WARNING, what, f"{described} works; set STRIPE_MODE={mode.value if mode else 'test'} so a key "
                     "of the other mode is refused at start")  # fmt: skip
    return Check(OK, what, f"{described} works, as STRIPE_MODE says")


def _write_check(client: stripe.StripeClient) -> Check:
    what = "Stripe customer write access"
    try:
        client.v1.customers.update(_PROBE_ID, params={})
    except stripe.PermissionError:
        return Check(ERROR, what, "the key may read but not create or update customers: give the restricted key "
                     "Write on Customers")  # fmt: skip
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing":
            return Check(OK, what, "the key may create and update customers")
        return Check(ERROR, what, f"unexpected answer ({exc.code})")
    except stripe.StripeError as exc:
        return Check(ERROR, what, f"Stripe unreachable ({type(exc).__name__})")
    return Check(ERROR, what, "a customer with the probe id exists; nothing was changed, but check the account")


def _maps_tax_ids(components: Components) -> bool:
    """The mapping syncs tax IDs (its ``tax_id_data`` entry): the key then needs the Tax IDs resource too."""
    from shared.mapping import TAX_ID_DATA

    try:
        return TAX_ID_DATA in components.mapping.config.fields
    except Exception:  # the mapping's own check reports why it can't be loaded
        return False


def _tax_id_check(client: stripe.StripeClient) -> Check:
    """Read and write on Tax IDs, a resource of its own in the restricted-key editor (apart from Customers).

    Both probes name a customer that can't exist: Stripe answers 404 to a key that may make the call and 403
    ("Having the 'rak_tax_id_write' permission would allow this request") to one that may not; nothing changes.
    """
    what = "Stripe tax ID access"
    probes = (
        ("read", lambda: client.v1.customers.tax_ids.list(_PROBE_ID)),
        ("write", lambda: client.v1.customers.tax_ids.create(_PROBE_ID, params={"type": "eu_vat", "value": "DE0"})),
    )
    for level, probe in probes:
        try:
            probe()
        except stripe.PermissionError:
            return Check(ERROR, what, f"the mapping syncs tax IDs (tax_id_data) but the restricted key may not {level} "
                         "them: give it Write on Tax IDs (Dashboard → API keys → edit the key)")  # fmt: skip
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                return Check(ERROR, what, f"unexpected answer ({exc.code})")
        except stripe.StripeError as exc:
            return Check(ERROR, what, f"Stripe unreachable ({type(exc).__name__})")
    return Check(OK, what, "the key may read and add the customers' tax IDs the mapping syncs")


def _sample_check(components: Components, client: stripe.StripeClient) -> Check:
    field = components.settings.salesforce_stripe_id_field
    what = f"Stripe ids in Account.{field}"
    # The field is an API name (WorkerSettings checks its pattern), not user input.
    soql = f"SELECT Id, {field} FROM Account WHERE {field} != null ORDER BY SystemModstamp DESC LIMIT {SAMPLE_SIZE}"  # noqa: S608
    try:
        rows = components.salesforce.query(soql)
    except SyncError as exc:
        return Check(ERROR, what, f"could not be read: {exc}")
    verdicts = {account["Id"]: _lookup(client, str(account[field]).strip()) for account in rows}
    other = [account for account, verdict in verdicts.items() if verdict.startswith("other:")]
    missing = [account for account, verdict in verdicts.items() if verdict == "missing"]
    deleted = [account for account, verdict in verdicts.items() if verdict == "deleted"]
    if other:
        id_mode = verdicts[other[0]].removeprefix("other:")
        key_mode_name = "test" if id_mode == "live" else "live"
        text = (
            f"{len(other)} of {len(verdicts)} sampled ids belong to {id_mode} mode (e.g. account {other[0]}), the "
            f"stack uses a {key_mode_name}-mode key: a refreshed sandbox holds production's ids. Clear {field} on "
            "every account (Data Loader or a Flow)"
        )
        if components.settings.stripe_replace_other_mode_ids:
            return Check(WARNING, what, text + ", or keep STRIPE_REPLACE_OTHER_MODE_IDS: each gets a new customer")
        return Check(ERROR, what, text + ", or set STRIPE_REPLACE_OTHER_MODE_IDS=true on this sandbox stack")
    if missing or deleted:
        return Check(WARNING, what, f"of {len(verdicts)} sampled: {len(missing)} not found in this Stripe account, "
                     f"{len(deleted)} deleted in Stripe (e.g. account {(missing + deleted)[0]}): check the key's "
                     "account, or clear the field where the customer is gone")  # fmt: skip
    if not verdicts:
        return Check(OK, what, "none yet: the first sync fills them")
    sampled = "the sampled id exists" if len(verdicts) == 1 else f"the {len(verdicts)} sampled ids exist"
    return Check(OK, what, f"{sampled} in this Stripe account and mode")


def _lookup(client: stripe.StripeClient, customer_id: str) -> str:
    """``ok``, ``deleted``, ``missing``, ``other:<mode>`` or ``error`` for one customer id."""
    try:
        customer = client.v1.customers.retrieve(customer_id)
    except stripe.InvalidRequestError as exc:
        message = str(exc.user_message or "")
        for mode in ("live", "test"):
            if f"a similar object exists in {mode} mode" in message:
                return f"other:{mode}"
        return "missing" if exc.code == "resource_missing" else "error"
    except stripe.StripeError:
        return "error"
    return "deleted" if customer.to_dict().get("deleted") else "ok"
