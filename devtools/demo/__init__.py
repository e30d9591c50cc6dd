"""The local demo: `make run` (scripted, prints what happened) and `make serve` (left running)."""
