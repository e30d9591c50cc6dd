"""R5 BillingCountry/ShippingCountry → address.country: Stripe's tax features need ISO 3166-1 alpha-2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devtools import country_names
from shared.mapping import CustomerMapping, load_mapping
from tests.unit.mapping.records import account


@pytest.mark.parametrize(
    ("salesforce_value", "alpha2"),
    [
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("germany ", "DE"),
        ("GERMANY", "DE"),
        ("DEU", "DE"),
        ("deu", "DE"),
        ("de", "DE"),
        ("US", "US"),
        ("USA", "US"),
        ("United States of America", "US"),
        ("United States", "US"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("United Kingdom", "GB"),
        ("Österreich", "AT"),
        ("Espana", "ES"),
        ("Russia", "RU"),
    ],
)
def test_rule_r5_billing_country_is_normalised_to_alpha2(
    standard: CustomerMapping, salesforce_value: str, alpha2: str
) -> None:
    # Given a billing country held as a code or a name, in any case and spacing
    record = account(BillingCountry=salesforce_value)
    # When it is mapped
    params = standard.map_account(record).params
    # Then Stripe gets the alpha-2 code
    assert params["address"]["country"] == alpha2


def test_rule_r5_unknown_billing_country_is_a_warning_naming_the_field(standard: CustomerMapping) -> None:
    # Given a billing country that is no country, beside a valid city
    record = account(BillingCountry="Atlantis", BillingCity="Berlin")
    # When it is mapped
    mapped = standard.map_account(record)
    # Then the customer keeps the city, the country is left out with a warning naming BillingCountry
    assert mapped.params["address"] == {"city": "Berlin"}
    assert [str(w) for w in mapped.warnings] == [
        "BillingCountry: is not a country Stripe accepts (ISO 3166-1 alpha-2 needed); left out"
    ]
    assert mapped.withheld_paths == ("address.country",)


def test_rule_r5_unknown_shipping_country_names_shipping_country(standard: CustomerMapping) -> None:
    # Given an invalid shipping country
    record = account(ShippingCountry="Narnia")
    # When it is mapped
    mapped = standard.map_account(record)
    # Then the warning names ShippingCountry
    assert [w.field for w in mapped.warnings] == ["ShippingCountry"]


def test_rule_r5_picklist_preset_prefers_billing_country_code() -> None:
    # Given an org with State/Country picklists: code and label fields are both set
    record = account(BillingCountryCode="AT", BillingCountry="Austria", BillingStateCode="9", BillingState="Wien")
    # When it is mapped with the standard_picklists preset
    params = load_mapping("standard_picklists").map_account(record).params
    # Then the code fields are used
    assert params["address"] == {"country": "AT", "state": "9"}


def test_rule_r5_picklist_preset_falls_back_to_billing_country() -> None:
    # Given a record whose code fields are empty but whose label fields hold a name
    record = account(
        BillingCountryCode=None, BillingCountry="Deutschland", BillingStateCode=None, BillingState="Bayern"
    )
    # When it is mapped with the standard_picklists preset
    params = load_mapping("standard_picklists").map_account(record).params
    # Then the label fields are used, the country normalised
    assert params["address"] == {"country": "DE", "state": "Bayern"}


def test_rule_r5_picklist_preset_selects_the_code_fields() -> None:
    # Given the standard_picklists preset (orgs without picklists lack *Code fields: a separate preset)
    fields = load_mapping("standard_picklists").account_fields
    # Then its SOQL selects both code and label fields
    assert {"BillingCountryCode", "BillingCountry", "ShippingStateCode", "ShippingState"} <= set(fields)
    # And the plain standard preset selects no *Code field
    assert not [
        field for field in load_mapping("standard").account_fields if field.endswith(("CountryCode", "StateCode"))
    ]


@pytest.mark.parametrize(
    ("salesforce_value", "alpha2"),
    [
        # The examples: other languages, styles, accents dropped, abbreviations, Kosovo.
        ("Frankreich", "FR"),
        ("Niederlande", "NL"),
        ("The Netherlands", "NL"),
        ("UAE", "AE"),
        ("Republic of Korea", "KR"),
        ("Cote d'Ivoire", "CI"),
        ("Côte d’Ivoire", "CI"),
        ("México", "MX"),
        ("U.K.", "GB"),
        ("Kosovo", "XK"),
        ("xk", "XK"),
        # A leading article in other languages, punctuation and spacing.
        ("la France", "FR"),
        ("die Schweiz", "CH"),
        ("l'Allemagne", "DE"),
        ("  united   states ", "US"),
        ("U.S.A.", "US"),
        ("Timor Leste", "TL"),
        # Native names European sales teams write, names in other scripts.
        ("Polska", "PL"),
        ("Česko", "CZ"),
        ("Sverige", "SE"),
        ("België", "BE"),
        ("Ελλάδα", "GR"),
        ("Россия", "RU"),
        ("日本", "JP"),
        # Former and everyday names the datasets hold.
        ("Czech Republic", "CZ"),
        ("Ivory Coast", "CI"),
        ("Burma", "MM"),
        ("Swaziland", "SZ"),
        ("Turkey", "TR"),
        ("Holland", "NL"),
        ("Scotland", "GB"),
        ("Northern Ireland", "GB"),
        # A constituent country that is a country of its own stays itself.
        ("Aruba", "AW"),
    ],
)
def test_country_names_from_cldr_and_iso_in_any_language_and_style(
    standard: CustomerMapping, salesforce_value: str, alpha2: str
) -> None:
    # Given a billing country as a CRM holds it
    record = account(BillingCountry=salesforce_value)
    # When it is mapped
    mapped = standard.map_account(record)
    # Then Stripe gets the alpha-2 code, without a warning
    assert mapped.params["address"]["country"] == alpha2
    assert mapped.warnings == ()


@pytest.mark.parametrize("ambiguous", ["Korea", "Europe", "EU", "Atlantis"])
def test_a_name_that_could_mean_two_countries_or_none_is_left_out_not_guessed(
    standard: CustomerMapping, ambiguous: str
) -> None:
    # Given a value that names no single country (two Koreas; a continent; the EU)
    mapped = standard.map_account(account(BillingCountry=ambiguous))
    # Then no country is sent, and the warning names BillingCountry
    assert "address" not in mapped.params
    assert [w.field for w in mapped.warnings] == ["BillingCountry"]


def test_the_generated_country_names_file_is_what_the_datasets_give() -> None:
    # Given the file committed beside shared/mapping/countries.py
    # When it is generated again from babel's CLDR data and pycountry
    regenerated = country_names.render(country_names.build())
    # Then it is the same file (after upgrading babel or pycountry: python -m devtools.country_names)
    assert country_names.OUTPUT.read_text(encoding="utf-8") == regenerated


def test_country_lookup_reads_its_file_on_first_use_not_at_import() -> None:
    # Given a fresh interpreter importing the mapping (what the worker does at cold start)
    code = (
        "import sys, shared.mapping, shared.mapping.countries as c; "
        "print(c._names_text.cache_info().currsize, 'babel' in sys.modules, 'pycountry' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # Then neither the file nor babel nor pycountry is loaded yet
    assert out.split() == ["0", "False", "False"]


def _salesforce_labels() -> list[tuple[str, str]]:
    path = Path(__file__).resolve().parents[2] / "fixtures" / "salesforce" / "country_picklist_labels.tsv"
    rows = [line.rstrip("\n").split("\t") for line in path.read_text(encoding="utf-8").splitlines(keepends=True)]
    return [(row[0], row[1]) for row in rows if row and not row[0].startswith("#")]


@pytest.mark.parametrize(("label", "alpha2"), _salesforce_labels())
def test_rule_r5_salesforce_country_picklist_labels_current_and_former_are_placed(
    standard: CustomerMapping, label: str, alpha2: str
) -> None:
    # Given a billing country as Salesforce's State/Country picklists label it (or labelled it before a rename)
    mapped = standard.map_account(account(BillingCountry=label))
    # Then Stripe gets its alpha-2 code, without a warning
    assert mapped.params["address"]["country"] == alpha2
    assert mapped.warnings == ()
