"""Country values → ISO 3166-1 alpha-2, which Stripe's tax features need in `address.country`.

Salesforce orgs without State/Country picklists hold free text, in the sales team's language and style:
"Frankreich", "The Netherlands", "Cote d'Ivoire", "U.K.", "UAE", "Republic of Korea", "México", "Kosovo".
The names come from maintained datasets (CLDR's territory names in every locale, pycountry's ISO 3166
names and translations), precomputed by ``python -m devtools.country_names`` into ``country_names.tsv``
beside this module (a test checks that regenerating gives the same file). The file is read on the first
lookup, not at import, so the worker's cold start does not pay for it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources

NAMES_RESOURCE = "country_names.tsv"
# Codes Stripe accepts that ISO 3166-1 has not assigned: Kosovo (CLDR's and the EU's user-assigned XK).
USER_ASSIGNED = ("XK",)
# Leading articles ("The Netherlands", "la France", "die Schweiz", "l'Allemagne"): matched without them.
_ARTICLES = frozenset({"the", "la", "le", "les", "l", "el", "los", "las", "die", "der", "das", "de", "het", "il", "lo"})
_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """The form names are matched in: case, accents, punctuation and a leading article ignored.

    "Côte d’Ivoire" and "cote d'ivoire" → "cote d ivoire"; "U.K." → "uk"; "The Netherlands" → "netherlands".
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    # Dots join (U.S.A. → usa); every other run of punctuation or spaces separates words.
    words = _NOT_WORD.sub(" ", plain.replace(".", "")).split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


@functools.cache
def _names_text() -> str:
    """The whole file (~1.2 MB): one line per code, ``CODE<TAB>name<TAB>…``, names folded."""
    return resources.files("shared.mapping").joinpath(NAMES_RESOURCE).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=4096)
def _code_of(key: str) -> str | None:
    # A substring search is ~1 ms; building a dict of the 50,000 names would cost every cold start that meets
    # a country ~10× that. Results are cached: an org holds few distinct country spellings.
    text = _names_text()
    found = [i for i in (text.find(f"\t{key}\t"), text.find(f"\t{key}\n")) if i >= 0]
    if not key or not found:
        return None
    start = text.rfind("\n", 0, min(found)) + 1
    return text[start : text.index("\t", start)]


def to_alpha2(value: str) -> str:
    """The alpha-2 code for a code (alpha-2/alpha-3, any case) or a name in any language; ValueError when unknown.

    The message never repeats the value (it is written to logs and back to the account).
    """
    code = _code_of(fold(value))
    if code is None:
        raise ValueError("is not a country Stripe accepts (ISO 3166-1 alpha-2 needed)")
    return code
