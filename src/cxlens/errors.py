"""Errors that a person can act on.

    CxlensError
     └── UserError            bad input or a bad request: shown as a message, never a traceback
          ├── InputError      a file that cannot be read or mapped (carries file, line, column)
          │    └── SheetChoice   a workbook with several sheets: which one? (carries the names)
          ├── MappingUnsure   no confident column mapping; a proposal was written for editing
          └── EngineUnavailable  the engine chosen cannot run (no Spark master, no PySpark)

Programming errors are ordinary exceptions and still raise with a traceback.
"""

from __future__ import annotations


class CxlensError(Exception):
    """Root of the errors cxlens raises on purpose."""


class UserError(CxlensError):
    """Something the user can fix; ``hint`` says how."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.file = file
        self.line = line
        self.column = column

    @property
    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text}\nhow to fix: {self.hint}" if self.hint else text

    def as_dict(self) -> dict[str, object]:
        return {
            "error": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "hint": self.hint,
        }


class InputError(UserError):
    """A file that cannot be read, parsed or mapped."""

    exit_code = 3


class SheetChoice(InputError):
    """A workbook with data on several sheets and none chosen; ``sheets`` names them, so
    that the web upload can offer them (the CLI says ``--sheet NAME``)."""

    def __init__(self, message: str, *, sheets: list[str], **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.sheets = sheets


class MappingUnsure(UserError):
    """The header could not be mapped confidently; ``proposal_path`` holds a draft."""

    exit_code = 4

    def __init__(self, message: str, *, proposal_path: str, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.proposal_path = proposal_path


class EngineUnavailable(UserError):
    """The engine a result is computed on cannot run now: a Spark master that does not
    answer, PySpark or Java missing, a lake that cannot be written. Not the request's fault:
    the server answers 503 (the operator fixes it, or chooses DuckDB)."""
