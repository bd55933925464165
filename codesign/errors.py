"""One exception type for bad user input: the CLI prints its message on one line and exits 2."""

import argparse
import sys


class CodesignError(Exception):
    """A user-facing error: the message names the model, file, node or parameter at fault."""


def fail(e: BaseException) -> int:
    """The one error path of every verb: `codesign: error: <message>` on stderr, exit code 2."""
    print(f"codesign: error: {e}", file=sys.stderr)
    return 2


def first_line(e: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none): libraries
    raise multi-line dumps, and our errors are one line."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def os_error_text(e: OSError) -> str:
    """One line for an operating-system error: what failed, on which file."""
    what = e.strerror or type(e).__name__
    where = f": {e.filename}" if e.filename else ""
    return f"{what}{where}"


class ArgumentParser(argparse.ArgumentParser):
    """argparse on the one error path: a usage error (missing argument, unknown option, bad
    value) is one line naming the verb, exit 2, instead of argparse's usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        verb = self.prog.removeprefix("codesign").strip()
        where = f"{verb}: " if verb else ""
        print(f"codesign: error: {where}{message} (see `{self.prog} -h`)", file=sys.stderr)
        sys.exit(2)
