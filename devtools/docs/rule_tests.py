"""docs/reference/rule-tests.md: for each rule R1–R13, the tests that prove it, found by name.

Tests name the rule they prove: ``test_rule_r7_…``, or several rules ``test_rule_r9_r11_r13_…``. The rules
themselves are listed in ``docs/rules.md``; a rule without a test is shown as such, not hidden.
"""

from __future__ import annotations

import re

from devtools.docs.markdown import header
from devtools.docs.suite_scan import scan_tests

RULES = range(1, 14)
_NAME = re.compile(r"^test_rule_((?:r\d+_)+)")


def tests_by_rule() -> dict[int, list[str]]:
    """Rule number → ``path::test`` of every test named after it."""
    found: dict[int, list[str]] = {rule: [] for rule in RULES}
    for test in scan_tests():
        match = _NAME.match(test.name)
        if not match:
            continue
        for number in re.findall(r"r(\d+)_", match.group(1)):
            found.setdefault(int(number), []).append(test.ref)
    return found


def page() -> str:
    """The whole page."""
    found = tests_by_rule()
    total = len({ref for refs in found.values() for ref in refs})
    lines = [
        header(
            "Tests per rule",
            "the names of the tests under `tests/` (`test_rule_rN_…`)",
            f"{total} tests are named after the rule they prove. What each rule says and where the code enforces "
            "it: [The rules](../rules.md). Run one rule's tests with `.venv/bin/python -m pytest -k rule_r7`.",
        )
    ]
    for rule, refs in found.items():
        lines += [f"## R{rule}", ""]
        lines += [f"- `{ref}`" for ref in refs] or [
            "No test is named after this rule yet (see [The rules](../rules.md))."
        ]
        lines.append("")
    return "\n".join(lines)
