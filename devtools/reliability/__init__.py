"""``make reliability``: fault and hostile-input scenarios against the real local stack, with figures.

Each scenario family is one module (``delivery``, ``faults``, ``crash``, ``poison``, ``hostile``, ``leaks``)
whose functions take the started ``Harness`` and a ``Size`` and return ``Figures``. The runner
(``python -m devtools.reliability --size full|ci``) prints the table, writes ``RELIABILITY.md`` and exits
non-zero when a figure that must be 0 is not.
"""
