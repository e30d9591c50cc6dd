"""Stripe's Salesforce CPQ connector as a second writer of Stripe customers, acting on both through their APIs.

The "Stripe Billing Connector for Salesforce CPQ" is a managed package (namespace ``stripeConnector``) whose
service reads the org through the REST API and writes Stripe through Stripe's API. What it does to *customers*,
modelled here from its documentation and its public source (the ``stripe-salesforce`` service, published in
https://github.com/stripe/stripe-go under ``lib/stripe-force``):

- **When it syncs an order** it translates the order's account first (``translate_account`` in
  ``translate/customer.rb``; "Accounts and contacts",
  https://docs.stripe.com/connectors/salesforce-cpq/accounts-contacts): when the account's Stripe ID field —
  its own ``stripeConnector__Stripe_ID__c`` (``GENERIC_STRIPE_ID`` prefixed with the package namespace,
  ``prefixed_stripe_field``) — is empty it **creates** a customer, without looking for an existing one, and
  writes the new id into that field (``update_sf_stripe_id``, which overwrites an id already there);
  otherwise it retrieves that customer (``retrieve_from_stripe``; a deleted one is a sync failure) and adds its
  metadata if missing, and **updates** the customer's mapped fields only with the feature flag
  ``update_customer_on_order_creation`` (``FeatureFlags::UPDATE_CUSTOMER_ON_ORDER_TRANSLATION`` in
  ``constants.rb``).
- **Its fields**: by default the account's ``Name``, ``Description`` and billing address, as they are (the
  whole ``BillingStreet`` in ``address.line1``, ``BillingCountry`` unconverted: the connector's test
  "translates billing address"); more through its field mappings ("Define how data maps",
  https://docs.stripe.com/connectors/salesforce-cpq/setup).
- **Its metadata**: ``salesforce_account_id`` (the account's 18-character Id) and ``salesforce_account_link``
  (``stripe_metadata_for_sf_object`` in ``translate/utilities/metadata.rb``).
- **Its pollers**: activated orders are picked up by a poll; an account poller exists behind the feature flag
  ``account_polling``; the source polls every 3 minutes (``POLL_FREQUENCY = 3 * 60`` in ``constants.rb``).
  Here ``poll()`` is one round, driven by the test or the demo.

It runs as its own Salesforce user (without the sync's permission set), so the Stripe ID it writes starts the
package's account Flow and the sync hears of the change.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import requests
from stripe import StripeClient

NAMESPACE = "stripeConnector"
STRIPE_ID_FIELD = f"{NAMESPACE}__Stripe_ID__c"
USERNAME = "stripe-connector@example.com"
# The source's poll interval (seconds): how long a change may wait for the connector; informational here.
POLL_SECONDS = 3 * 60
# The connector's default customer mapping: Stripe field path → Account field, values sent as they are.
DEFAULT_CUSTOMER_MAPPING: dict[str, str] = {
    "name": "Name",
    "description": "Description",
    "address.line1": "BillingStreet",
    "address.city": "BillingCity",
    "address.state": "BillingState",
    "address.postal_code": "BillingPostalCode",
    "address.country": "BillingCountry",
}


class ConnectorSyncFailure(Exception):
    """What the connector records as a failed sync of a record (its "sync record"), e.g. a deleted customer."""


class StripeConnector:
    """The connector's customer behaviour, driven by calls: ``sync_order``, ``translate_account``, ``poll``.

    ``customer_mapping``: Stripe path → Account field (its default: ``DEFAULT_CUSTOMER_MAPPING``; a split with
    the sync removes the sync's fields from it). ``update_customer_on_order_creation`` and
    ``account_polling`` are its feature flags (off by default, as shipped).
    """

    def __init__(
        self,
        sim: Any,
        stripe_api_base: str,
        *,
        customer_mapping: Mapping[str, str] | None = None,
        update_customer_on_order_creation: bool = False,
        account_polling: bool = False,
        api_version: str = "59.0",
    ) -> None:
        self._sim = sim
        self._mapping = dict(DEFAULT_CUSTOMER_MAPPING if customer_mapping is None else customer_mapping)
        self.update_customer_on_order_creation = update_customer_on_order_creation
        self.account_polling = account_polling
        self._data = f"{sim.instance_url}/services/data/v{api_version}"
        sim.add_user(USERNAME, uuid.uuid4().hex)
        self._session = requests.Session()
        self._session.verify = sim.ca_bundle_path
        self._session.headers["Authorization"] = f"Bearer {sim.issue_token(USERNAME)}"
        self._stripe = StripeClient("sk_test_connector", base_addresses={"api": stripe_api_base}, max_network_retries=0)
        self._synced_orders: set[str] = set()
        self._polled_at: str | None = None
        self._lock = threading.Lock()
        self.customers_created: list[str] = []
        self.customers_updated: list[str] = []

    # -- what the connector does ---------------------------------------------------------------------------
    def sync_order(self, order_id: str, *, before_create: Callable[[], None] | None = None) -> str:
        """Sync one activated order's account (the subscription itself is not modelled); the customer id."""
        order = self._find("Order", order_id, ("Id", "AccountId"))
        customer_id = self.translate_account(str(order["AccountId"]), before_create=before_create, on_order=True)
        self._synced_orders.add(order_id)
        return customer_id

    def translate_account(
        self, account_id: str, *, before_create: Callable[[], None] | None = None, on_order: bool = False
    ) -> str:
        """Create the account's customer when its Stripe ID field is empty, else retrieve (and maybe update) it.

        ``before_create`` runs between reading the empty field and creating: a test's way to let another
        writer act in that window, as a concurrent sync would.
        """
        account = self._account(account_id)
        existing = account.get(STRIPE_ID_FIELD)
        if not existing:
            if before_create is not None:
                before_create()
            return self._create(account)
        customer = self._stripe.v1.customers.retrieve(existing).to_dict()
        if customer.get("deleted"):
            raise ConnectorSyncFailure(f"attempting to retrieve deleted Stripe object {existing}")
        metadata = self._metadata(account_id)
        params: dict[str, Any] = {}
        if any((customer.get("metadata") or {}).get(k) != v for k, v in metadata.items()):
            params["metadata"] = metadata  # merged into the customer's metadata by Stripe
        if on_order and self.update_customer_on_order_creation:
            params.update(self._fields(account))
        if params:
            self._stripe.v1.customers.update(existing, params=params)  # type: ignore[arg-type]  # a mapping built at run time
            self.customers_updated.append(existing)
        return str(existing)

    def poll(self) -> list[str]:
        """One poll round: every activated order not synced yet, then (``account_polling``) changed accounts."""
        rows = self._query("SELECT Id FROM Order WHERE Status = 'Activated' ORDER BY Id")
        done = [self.sync_order(str(row["Id"])) for row in rows if row["Id"] not in self._synced_orders]
        if self.account_polling:
            soql = "SELECT Id, SystemModstamp FROM Account"
            if self._polled_at:  # a datetime literal, unquoted in SOQL
                soql += " WHERE SystemModstamp > " + self._polled_at
            changed = self._query(soql + " ORDER BY SystemModstamp")
            done += [self.translate_account(str(row["Id"])) for row in changed]
            if changed:
                self._polled_at = str(changed[-1]["SystemModstamp"])
        return done

    # -- its Stripe and Salesforce calls -------------------------------------------------------------------
    def _create(self, account: dict[str, Any]) -> str:
        params = {**self._fields(account), "metadata": self._metadata(str(account["Id"]))}
        customer = self._stripe.v1.customers.create(params=params)  # type: ignore[arg-type]  # a mapping built at run time
        with self._lock:
            self.customers_created.append(customer.id)
        # update_sf_stripe_id: the new id into its field, overwriting whatever is there by now.
        self._patch("Account", str(account["Id"]), {STRIPE_ID_FIELD: customer.id})
        return str(customer.id)

    def _fields(self, account: dict[str, Any]) -> dict[str, Any]:
        """Its mapped fields as Stripe params (nested for ``address.*``); empty values are left out."""
        params: dict[str, Any] = {}
        for path, field in self._mapping.items():
            value = account.get(field)
            if value in (None, ""):
                continue
            head, _, tail = path.partition(".")
            if tail:
                params.setdefault(head, {})[tail] = value
            else:
                params[head] = value
        return params

    def _metadata(self, account_id: str) -> dict[str, str]:
        return {
            "salesforce_account_id": account_id,
            "salesforce_account_link": f"{self._sim.instance_url}/{account_id}",
        }

    def _account(self, account_id: str) -> dict[str, Any]:
        return self._find("Account", account_id, ("Id", STRIPE_ID_FIELD, *self._mapping.values()))

    def _find(self, sobject: str, record_id: str, fields: tuple[str, ...]) -> dict[str, Any]:
        """Restforce's ``find``: ``GET /sobjects/{sobject}/{id}?fields=…``."""
        url = f"{self._data}/sobjects/{sobject}/{record_id}"
        response = self._session.get(url, params={"fields": ",".join(sorted(set(fields)))}, timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def _query(self, soql: str) -> list[dict[str, Any]]:
        response = self._session.get(f"{self._data}/query", params={"q": soql}, timeout=10)
        response.raise_for_status()
        return list(response.json()["records"])

    def _patch(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        response = self._session.patch(f"{self._data}/sobjects/{sobject}/{record_id}", json=fields, timeout=10)
        response.raise_for_status()
