"""docs/reference/vendor-behaviour.md: what we rely on from Salesforce, Stripe and AWS, from the tests.

A test that models or proves a vendor behaviour carries ``@pytest.mark.vendor_doc(url, behaviour)`` (and
optionally ``model="how the emulator models it"``); this page lists every such behaviour with the vendor's
document, how it is modelled and the tests, so adding a vendor-behaviour test adds its row.
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import parse_qs, urlparse

from devtools.docs.markdown import header, table
from devtools.docs.suite_scan import ScannedTest, VendorDoc, scan_tests

VENDORS = {
    "Salesforce": ("salesforce.com",),
    "Stripe": ("stripe.com",),
    "AWS": ("aws.amazon.com",),
}
# Where a test lives says what models the vendor there, unless its marker says more (model=…).
MODELS = (
    ("tests/devtools/test_stripe_emulator", "the Stripe emulator (`devtools/stripe_emulator`)"),
    ("tests/devtools/test_salesforce", "the Salesforce org simulator (`devtools/salesforce_sim`)"),
    ("tests/integration", "the product against the local stack (emulators, dynalite, moto server)"),
    ("tests/unit", "the product's own code, without a network"),
)


def vendor_of(url: str) -> str:
    """Salesforce, Stripe or AWS, by the document's host; ValueError for anything else."""
    host = urlparse(url).hostname or ""
    for vendor, domains in VENDORS.items():
        if any(host == domain or host.endswith("." + domain) for domain in domains):
            return vendor
    raise ValueError(f"vendor_doc URL {url!r} is not a Salesforce, Stripe or AWS document")


def _title(url: str) -> str:
    """A short link text: the page's name (help.salesforce.com: the article id), with its section."""
    parsed = urlparse(url)
    path = parsed.path.strip("/")
    # Stripe's paths are short and say the resource (api/customers/update); the others' last segment does.
    last = path if parsed.hostname == "docs.stripe.com" else path.rsplit("/", 1)[-1]
    name = parse_qs(parsed.query).get("id", [""])[0] or last
    name = name.removesuffix(".htm").removesuffix(".html") or parsed.hostname or url
    return f"{parsed.hostname}: {name}" + (f"#{parsed.fragment}" if parsed.fragment else "")


def _model(doc: VendorDoc, tests: list[ScannedTest]) -> str:
    if doc.model:
        return doc.model
    models = [next((m for prefix, m in MODELS if t.path.startswith(prefix)), "") for t in tests]
    return "; ".join(dict.fromkeys(m for m in models if m))


def behaviours() -> dict[str, list[tuple[VendorDoc, list[ScannedTest]]]]:
    """Vendor → [(document and behaviour, its tests)], in the order first met."""
    grouped: dict[tuple[str, str], list[ScannedTest]] = defaultdict(list)
    docs: dict[tuple[str, str], VendorDoc] = {}
    for test in scan_tests():
        for doc in test.vendor_docs:
            key = (doc.url, doc.behaviour)
            grouped[key].append(test)
            if doc.model or key not in docs:
                docs[key] = doc
    by_vendor: dict[str, list[tuple[VendorDoc, list[ScannedTest]]]] = {vendor: [] for vendor in VENDORS}
    for key, tests in grouped.items():
        by_vendor[vendor_of(key[0])].append((docs[key], tests))
    return by_vendor


def page() -> str:
    """The whole page."""
    lines = [
        header(
            "What we rely on from Salesforce, Stripe and AWS",
            "the `@pytest.mark.vendor_doc(url, behaviour)` markers of the tests under `tests/`",
            "Every vendor behaviour the product depends on, as the vendor documents it; how the local emulators "
            "model it (they follow the vendor's document, not our assumptions); and the tests that prove the "
            'emulator and the product handle it. A new test marked `@pytest.mark.vendor_doc("https://…", '
            '"what the vendor does")` adds its row here (`python -m devtools.docs`).',
        )
    ]
    for vendor, rows in behaviours().items():
        lines += [f"## {vendor}", ""]
        if not rows:
            lines += ["No test is marked for this vendor yet.", ""]
            continue
        lines.append(
            table(
                ["behaviour", "document", "modelled by", "tests"],
                [
                    (
                        doc.behaviour,
                        f"[{_title(doc.url)}]({doc.url})",
                        _model(doc, tests),
                        "<br>".join(f"`{t.ref}`" for t in tests),
                    )
                    for doc, tests in rows
                ],
            )
        )
        lines.append("")
    return "\n".join(lines)
