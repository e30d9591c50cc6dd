"""Country values → ISO 3166-1 alpha-2, which Stripe's tax features need in `address.country`.

Salesforce orgs without State/Country picklists hold free text ("Germany", "Deutschland", "USA").
pycountry resolves codes and English official/common names; the small table below adds the names
pycountry lacks that CRMs commonly hold.
"""

from __future__ import annotations

import unicodedata

import pycountry

# Keys are casefolded and accent-free (see _fold), so "España" and "Espana" both match.
_ALIASES = {
    # English short forms that are not ISO names.
    "uk": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "u.s.": "US",
    "u.s.a.": "US",
    "holland": "NL",
    "ivory coast": "CI",
    # pycountry 26 only knows the ISO names "Russian Federation" and "Türkiye".
    "russia": "RU",
    "turkey": "TR",
    # Native names, as entered by European sales teams.
    "deutschland": "DE",
    "osterreich": "AT",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "espana": "ES",
    "italia": "IT",
    "nederland": "NL",
    "belgie": "BE",
    "belgique": "BE",
    "polska": "PL",
    "cesko": "CZ",
    "danmark": "DK",
    "sverige": "SE",
    "norge": "NO",
    "suomi": "FI",
    "brasil": "BR",
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", " ".join(text.split()).casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def to_alpha2(value: str) -> str:
    """The alpha-2 code for a code (alpha-2/alpha-3, any case) or name; ValueError when unknown."""
    text = " ".join(value.split())
    alias = _ALIASES.get(_fold(text))
    if alias:
        return alias
    try:
        # lookup() matches codes and names case-insensitively.
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        pass
    raise ValueError("is not a country Stripe accepts (ISO 3166-1 alpha-2 needed)")
