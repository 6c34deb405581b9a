"""The console entry point ``celltrial``: runs the Typer app and keeps the exit-code contract.

Usage errors (unknown option or command, bad value) print click's usual message and exit 2,
without a traceback. The handler of last resort cannot fail itself: it imports nothing (typer
0.29+ vendors its own click and no longer installs ``click``, so usage errors are recognised by
class name), and if even writing the log fails it still prints one line and exits 1.

Example:
    $ celltrial --bogus        # "No such option: --bogus", exit 2
"""

from __future__ import annotations

import contextlib
import sys

from .root import BAD_INPUT, INTERNAL, INTERRUPTED, app, report, report_internal, safe_text

#: Base classes of click's usage errors, in click itself and in the copy typer vendors.
_CLICK_ERRORS = ("ClickException", "UsageError")


def is_click_error(exc: BaseException) -> bool:
    """True for click's own errors (usage, bad parameter, file), whichever copy of click raised them.

    Example:
        >>> import typer
        >>> is_click_error(typer.BadParameter("no")), is_click_error(ValueError("no"))
        (True, False)
    """
    return any(c.__name__ in _CLICK_ERRORS for c in type(exc).__mro__) and hasattr(exc, "show")


def _dispatch() -> int:
    """Run the app; map every exception to its one line and exit code."""
    import typer

    from ..errors import CelltrialError

    try:
        code = app(standalone_mode=False)  # a command's typer.Exit(code) comes back as the return value
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        sys.stderr.write("aborted\n")
        return INTERNAL
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return INTERRUPTED
    except CelltrialError as exc:
        return report(exc)
    except Exception as exc:  # noqa: BLE001 - everything else is a usage error or a bug
        if is_click_error(exc):  # unknown option or command, missing argument, bad value
            exc.show()
            return int(getattr(exc, "exit_code", BAD_INPUT))
        report_internal(exc)
        return INTERNAL
    return code if isinstance(code, int) and not isinstance(code, bool) else 0


def main() -> None:
    """Console entry point with celltrial's exit-code contract (see :mod:`celltrial.cli`)."""
    try:
        code = _dispatch()
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - last resort: reporting itself failed; one line, exit 1
        code = INTERNAL
        with contextlib.suppress(Exception):  # even a closed stderr must not turn into a traceback
            sys.stderr.write(f"internal error: {type(exc).__name__}: {safe_text(exc)}\n")
    if code:
        sys.exit(code)
