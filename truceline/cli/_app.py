"""What every command shares: the Typer application, the consoles, the store options, the
one mapping of Truceline's errors to exit codes, and the progress bar.

Exit codes: 0 success; 2 bad input or arguments (the message names the file, line and field,
or the option); 1 anything else (the store is unavailable, an optional part is missing, or
an internal error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import InputError, NotFound, StoreError, TrucelineError, UsageError

__all__ = [
    "DEFAULT_DB",
    "DatabaseUrlOption",
    "DbOption",
    "LogKeyOption",
    "ParquetSetOption",
    "SectorOption",
    "app",
    "err",
    "exit_code",
    "guard",
    "open_existing",
    "open_store",
    "out",
    "progress",
]

app = typer.Typer(
    help="Truceline: ceasefire monitoring and verification.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # a docstring's paragraphs are reflowed to the terminal
)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

DbOption = Annotated[Path, typer.Option("--db", help="SQLite store file.")]
DEFAULT_DB = Path("truceline.db")
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="TRUCELINE_DATABASE_URL",
        help="PostgreSQL + PostGIS store (postgresql://...) instead of the SQLite file.",
    ),
]
ParquetSetOption = Annotated[
    Path | None,
    typer.Option(
        "--parquet",
        help="A Parquet set (a directory): observations partitioned by day and sector of the "
        "line, with the tree head it was written from.",
        file_okay=False,
    ),
]
LogKeyOption = Annotated[
    Path | None,
    typer.Option(help="The evidence log's signing key (default: the store's path + .key)."),
]

EngineOption = Annotated[
    str,
    typer.Option(
        help="Where association runs: single (this process) or dask (a Dask cluster, by "
        "windows of time; the same incidents byte for byte)."
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        help="With --engine dask: the scheduler's address (tcp://HOST:PORT); without it a "
        "local cluster of --workers processes is started."
    ),
]
WorkersOption = Annotated[
    int, typer.Option(help="With --engine dask and no --scheduler: local worker processes.", min=1)
]
PartitionOption = Annotated[
    float,
    typer.Option(
        "--partition-minutes",
        help="With --engine dask: the length of each window of time (its halo is added).",
        min=1.0,
    ),
]

SectorOption = Annotated[
    float | None,
    typer.Option(
        "--sector-km",
        help="With --engine dask: also cut each window into sectors this long along the line "
        "of contact (each with a halo of twice the hearing range, twice).",
        min=1.0,
    ),
]


@contextmanager
def engine_partitions(
    engine: str,
    scheduler: str | None,
    workers: int,
    partition_minutes: float,
    sector_km: float | None = None,
) -> Iterator[Any]:
    """The partitions of ``--engine`` (None: the single-process engine), for the command's
    duration (a local cluster is stopped on leaving)."""
    from ..cluster import ENGINES, dask_map
    from ..localize.partitions import Partitioning

    if engine not in ENGINES:
        raise UsageError("--engine", f"{engine!r} is not one of {', '.join(ENGINES)}")
    if engine == "single":
        if scheduler is not None or sector_km is not None:
            raise UsageError("--scheduler" if scheduler else "--sector-km", "needs --engine dask")
        yield None
        return
    sector_m = None if sector_km is None else 1000.0 * sector_km
    with dask_map(scheduler, workers) as run:
        yield Partitioning(core_s=60.0 * partition_minutes, run=run, sector_m=sector_m)


_WORDS = {int: "INTEGER", float: "NUMBER", str: "TEXT"}


def _type_in_words(self: Any, ctx: Any) -> str | None:
    """An option's type in the help as a word (PATH, INTEGER, NUMBER, TEXT; a flag shows
    none), not as Typer's Python annotation (``<list[Path]>``, ``<bool>``)."""
    if getattr(self, "is_flag", False) or getattr(self, "count", False):
        return None
    desc = self.type_descriptor
    kind = desc.annotation
    many = desc.is_list
    if many:
        from typing import get_args

        kind = get_args(kind)[0] if get_args(kind) else str
    if desc.is_choice:
        word = "|".join(str(c) for c in desc.choices or ())
    elif desc.is_path or desc.is_file or kind is Path:
        word = "PATH"
    elif kind is bool:
        return None
    else:
        word = _WORDS.get(kind, getattr(kind, "__name__", "TEXT").upper())
    return word + ("..." if many else "")


typer.core.TyperOption.display_type_rich = _type_in_words  # type: ignore[method-assign]
typer.core.TyperArgument.display_type_rich = _type_in_words  # type: ignore[method-assign]


def exit_code(exc: BaseException) -> int:
    """The exit code of an error: 2 for bad input or arguments and for what does not exist,
    1 for everything else."""
    return 2 if isinstance(exc, InputError | NotFound) else 1


def _fail(exc: BaseException) -> None:
    if isinstance(exc, UsageError):
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
    elif isinstance(exc, InputError):
        err.print(
            f"[bold red]error:[/] input rejected, nothing was written\n{exc}", highlight=False
        )
    elif isinstance(exc, TrucelineError):
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
    else:
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}", highlight=False)
    raise typer.Exit(exit_code(exc))


def guard(fn: Callable[[], T]) -> T:
    """Run a command's work; turn any error into its message and exit code."""
    try:
        return fn()
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:
        _fail(exc)
        raise  # unreachable: _fail always raises


@contextmanager
def progress(label: str, total: int | None) -> Iterator[Callable[[float], None]]:
    """A progress bar on standard error (shown only on a terminal); yields ``advance(n)``."""
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def open_store(db: Path | None, database_url: str | None, log_key: Path | None = None) -> Any:
    """The store (created on first use): the SQLite file, or PostgreSQL with a URL."""
    from ..store import open_store as open_

    return open_(db, database_url, log_key)


def open_existing(db: Path, database_url: str | None, log_key: Path | None = None) -> Any:
    """An existing store (a command that only reads must not create an empty one)."""
    if not database_url and not db.exists():
        raise UsageError("--db", f"{db}: no such store")
    return open_store(db, database_url, log_key)


def logged_agreement(store: Any) -> Any:
    """The agreement the store's last analysis run logged."""
    from ..agreement import agreement_from_files

    files = store.agreement_files()
    if not files:
        raise StoreError("no analysis run has logged an agreement yet")
    return agreement_from_files(files)
