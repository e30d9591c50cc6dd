"""Operator tools: the ``sfsync`` command line (reconcile, resync, status, redrive)."""
