"""The project's own error for bad input: one line, naming the file and line."""

from __future__ import annotations


class AnrcInputError(ValueError):
    """Bad input data. ``str(err)`` is the one-line ``FILE:LINE: problem`` message."""

    def __init__(self, problem: str, path: str | None = None, line: int | None = None):
        self.problem = problem
        self.path = path
        self.line = line
        super().__init__(self.format())

    def format(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return f"{where}{self.problem}"
