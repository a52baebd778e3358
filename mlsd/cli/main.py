"""The `mlsd` application: subcommands are registered here, and `main()` turns every
usage problem into one line on stderr with exit code 2 (never a traceback)."""

from __future__ import annotations

import sys

import typer

import mlsd
from mlsd.cli.common import err_console
from mlsd.cli.compare_cmd import compare_app
from mlsd.cli.learn_cmd import learn
from mlsd.cli.list_cmd import list_designs
from mlsd.cli.patterns_cmd import patterns
from mlsd.cli.practice_cmd import practice
from mlsd.cli.progress_cmd import progress
from mlsd.cli.run_cmd import run
from mlsd.errors import UsageError
from mlsd.threads import configure_before_imports

app = typer.Typer(
    name="mlsd",
    help="Practice ML system design interviews on ten designs that actually run.\n\n"
         "Start with: mlsd list, then mlsd learn fraud, mlsd run fraud, mlsd practice fraud.",
    no_args_is_help=True,
    rich_markup_mode="markdown",  # a docstring's lines join into paragraphs that wrap at the terminal's width
    pretty_exceptions_enable=False,
)
app.command("list")(list_designs)
app.command("learn")(learn)
app.command("run")(run)
app.command("practice")(practice)
app.command("progress")(progress)
app.command("patterns")(patterns)
app.add_typer(compare_app, name="compare")


def _version(value: bool) -> None:
    if value:
        print(f"mlsd {mlsd.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Practice ML system design interviews on ten designs that actually run."""


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    configure_before_imports()  # before any stage imports numpy, torch, faiss or LightGBM
    command = typer.main.get_command(app)
    _no_metavar_on_flags()
    try:
        code = command.main(args=argv, prog_name="mlsd", standalone_mode=False)
    except UsageError as exc:
        _fail(str(exc), exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _fail("interrupted; nothing recorded was lost.", 130)
    except typer.TyperException as exc:  # typer's own parsing errors: bad option, missing argument
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help())  # `mlsd` or `mlsd compare` alone: show help, as the user asked for nothing
            sys.exit(0)
        where = ctx.command_path if ctx is not None else "mlsd"
        message = exc.format_message().rstrip(".")
        _fail(f"{message}. Try '{where} --help'.", getattr(exc, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)


def _no_metavar_on_flags() -> None:
    """`--json` and `--help` take no value: show no `<bool>` after them in --help
    (typer 0.29 prints the type of every option, flags included)."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    TyperOption.display_type_rich = lambda self, ctx: "" if self.is_flag else shown(self, ctx)


def _fail(message: str, code: int) -> None:
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    sys.exit(code)
