"""`asynccheck profile`: parse options, call `profile_program()`, end as the program did."""

from __future__ import annotations

import click

from asynccheck.runtime.profiler import DEFAULT_INTERVAL
from asynccheck.runtime.recorder import DEFAULT_SLOW_MS


def _configured_threshold(start: str) -> float:
    """`slow-callback-ms` from the project's [tool.asynccheck], found from the script's folder."""
    from asynccheck.config import ConfigError, load

    try:
        return float(load([start]).slow_callback_ms)
    except ConfigError as error:
        raise click.UsageError(str(error)) from None


@click.command(
    context_settings={
        # Everything after the script (or -m module) is the program's own: pass it through.
        "ignore_unknown_options": True,
        "allow_interspersed_args": False,
        "help_option_names": ["-h", "--help"],
    }
)
@click.option(
    "-m", "module", metavar="MODULE", help="Run a library module as a script, like python -m."
)
@click.option(
    "--slow-callback-ms",
    type=float,
    default=None,
    help=f"Report callbacks that hold the loop at least this long. [default: slow-callback-ms "
    f"in [tool.asynccheck] of the nearest pyproject.toml, else {DEFAULT_SLOW_MS:g}]",
)
@click.option(
    "--detect-blocking/--no-detect-blocking",
    default=True,
    show_default=True,
    help="Report known blocking calls (time.sleep, socket, subprocess, open...) on the loop thread.",
)
@click.option(
    "--profile/--no-profile", default=True, show_default=True, help="Profile with pyinstrument."
)
@click.option("--html", type=click.Path(dir_okay=False), help="Write the HTML report here.")
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), help="Write the JSON report here."
)
@click.option(
    "--speedscope",
    type=click.Path(dir_okay=False),
    help="Write the profile for speedscope.app here.",
)
@click.option(
    "--interval",
    type=float,
    default=DEFAULT_INTERVAL,
    show_default=True,
    help="The profiler's sampling interval, in seconds.",
)
@click.option(
    "--trace-leaks",
    is_flag=True,
    help="Record where leaked objects were created (tracemalloc; slower).",
)
@click.option("--uvloop", "use_uvloop", is_flag=True, help="Use uvloop as the base loop.")
@click.argument("program", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def profile(
    ctx: click.Context,
    module: str | None,
    slow_callback_ms: float | None,
    detect_blocking: bool,
    profile: bool,
    html: str | None,
    json_path: str | None,
    speedscope: str | None,
    interval: float,
    trace_leaks: bool,
    use_uvloop: bool,
    program: tuple[str, ...],
) -> None:
    """Run SCRIPT [ARGS...] (or -m MODULE [ARGS...]) and report what blocked its event loops.

    Every event loop the program runs is timed, in its child processes too; no change to its
    code is needed. The report goes to stderr, however the program ends (also on SIGTERM); the
    exit status is the one python would give.
    """
    from asynccheck.runtime.program import (
        ProfileConfig,
        ProgramNotRunnable,
        end_process,
        profile_program,
    )

    if module is None and not program:
        raise click.UsageError("give a script to run, or -m MODULE")
    target, args = (module, program) if module is not None else (program[0], program[1:])
    if slow_callback_ms is None:
        slow_callback_ms = _configured_threshold(target if module is None else ".")
    if speedscope and not profile:
        raise click.UsageError("--speedscope needs the profile; drop --no-profile")
    config = ProfileConfig(
        slow_callback_ms=slow_callback_ms,
        detect_blocking=detect_blocking,
        profile=profile,
        interval=interval,
        trace_leaks=trace_leaks,
        use_uvloop=use_uvloop,
        html=html,
        json=json_path,
        speedscope=speedscope,
    )
    try:
        finished = profile_program(target, args, module=module is not None, config=config)
    except ProgramNotRunnable as error:
        click.echo(error.message, err=True)
        ctx.exit(error.exit_code)
    ctx.exit(end_process(finished))
