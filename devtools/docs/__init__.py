"""The docs site's generated pages: written from the code, checked for staleness in ``make test``.

``python -m devtools.docs`` rewrites every page under ``docs/reference/`` from its source (settings models,
``template.yaml``, the glossary and error tables, ``sfsync --help``, the tests' ``vendor_doc`` markers and
rule names); ``python -m devtools.docs --check`` only compares, and exits 1 naming each stale page.
``tests/docs/test_generated_pages.py`` runs the same comparison. Nothing here runs in the product.
"""
