"""One line of ``sfsync doctor``'s report: status, what was checked, and what was found or how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

OK, WARNING, ERROR = "ok", "warning", "error"


@dataclass(frozen=True)
class Check:
    """One check's result; for a warning or an error ``detail`` says the fix in an admin's words."""

    status: str
    what: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<8}{self.what}: {self.detail}"
