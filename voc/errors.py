"""Every error ``voc`` raises on purpose.

Each error carries a short code (``E1xx`` input, ``E2xx`` config/taxonomy, ``E3xx``
models, ``E4xx`` store/publish, ``E5xx`` run) and a message that says what to fix.
The CLI prints ``[code] message`` on one line, with no traceback.
"""

from __future__ import annotations


class VocError(Exception):
    """Base class: a problem the user can fix, described in one line."""

    code = "E000"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class InputFileError(VocError):
    """An input file is missing, unreadable, empty or of an unknown format."""

    code = "E101"


class ColumnError(VocError):
    """A required column is missing or a named column does not exist."""

    code = "E102"


class ConfigError(VocError):
    """A config or taxonomy file has one or more mistakes (all reported at once)."""

    code = "E201"

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = "; ".join(f"{path}: {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s): {lines}")


class ModelError(VocError):
    """An embedding or classifier model cannot be loaded."""

    code = "E301"


class StoreError(VocError):
    """The output store is locked, corrupt or not writable."""

    code = "E401"


class StoreLockedError(StoreError):
    """Another run is writing to the same output directory."""

    code = "E402"


class AccountingError(VocError):
    """Rows read do not equal rows published + duplicates + quarantined."""

    code = "E501"


class PostgresError(StoreError):
    """PostgreSQL cannot be reached, or refused a read or a publish (password never shown)."""

    code = "E403"


class ExportError(VocError):
    """An export cannot be written (unknown format or table, too big for Excel)."""

    code = "E404"
