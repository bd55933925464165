"""One exception type for bad user input: the CLI prints its message on one line and exits 2."""

import argparse
import math
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


def at_least(lo: int, hi: int | None = None):
    """argparse type: an integer in lo..hi (argparse names the option and the value)."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if v < lo or (hi is not None and v > hi):
            allowed = f">= {lo}" if hi is None else f"in {lo}..{hi}"
            raise argparse.ArgumentTypeError(f"{v} is not {allowed}")
        return v

    parse.__name__ = "integer"
    return parse


def positive_number(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"{v} is not a finite number > 0")
    return v


class ArgumentParser(argparse.ArgumentParser):
    """argparse on the one error path: a usage error (missing argument, unknown option, bad
    value) is one line naming the verb, exit 2, instead of argparse's usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        verb = self.prog.removeprefix("codesign").strip()
        where = f"{verb}: " if verb else ""
        print(f"codesign: error: {where}{message} (see `{self.prog} -h`)", file=sys.stderr)
        sys.exit(2)
