"""The `dlpo` Typer application and its entry point.

Exit codes: 0 ok; 2 usage or input error (one clear line; traceback only with --debug);
1 run failure.
"""

from __future__ import annotations

import signal
import sys
import threading

import typer

from dlpo.errors import DlpoError


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="dlpo",
        help="Automatic prompt optimization by textual gradient descent (DLPO).",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    # Command modules are imported here, not at package import, so `import dlpo` stays light.
    from dlpo.cli import commands

    commands.register_all(app)
    return app


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interrupt so that a run ends the way Ctrl-C ends it: its finally
    blocks stop the managed model servers and close the event log."""


def _on_sigterm(signum: int, _frame: object) -> None:
    raise Terminated(signum)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, turning `DlpoError` into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    debug = "--debug" in args
    if debug:
        args = [a for a in args if a != "--debug"]
    app = build_app()
    try:
        app(args=args, prog_name="dlpo", standalone_mode=False)
    except DlpoError as exc:
        if debug:
            raise
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        return exc.exit_code
    except SystemExit as exc:  # typer/click exits on --help etc.
        return int(exc.code or 0)
    except Terminated:
        typer.secho("terminated", err=True)
        return 143
    except KeyboardInterrupt:
        typer.secho("interrupted", err=True)
        return 130
    except Exception as exc:  # click's usage errors
        aborts, usage_errors = _click_classes()
        if isinstance(exc, aborts):
            return 1
        if isinstance(exc, usage_errors):
            typer.secho(f"error: {_usage_line(exc)}", err=True, fg=typer.colors.RED)
            return 2
        raise
    return 0


def _usage_line(exc: Exception) -> str:
    """A click usage error as one line: the command, the problem and where to find help."""
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "dlpo"
    message = " ".join(exc.format_message().split()) if hasattr(exc, "format_message") else str(exc)
    return f"{command}: {message} (see `{command} --help`)"


def _click_classes() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(Abort, ClickException) classes of click and of the copy newer typer vendors as typer._click."""
    import importlib

    aborts: list[type] = []
    errors: list[type] = []
    # typer >= 0.25 vendors click as typer._click and no longer installs click itself.
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found = importlib.import_module(module)
        except ImportError:
            continue
        for name, into in (("Abort", aborts), ("ClickException", errors)):
            cls = getattr(found, name, None)
            if isinstance(cls, type) and cls not in into:
                into.append(cls)
    return tuple(aborts), tuple(errors)


if __name__ == "__main__":
    sys.exit(main())


def run() -> None:
    """`dlpo` console script."""
    sys.exit(main())
