"""The ``shuttle`` command: a thin skin over :mod:`shuttle.pipeline`.

Every command parses its options, loads the scenario, calls one library function and echoes
where the output went. A :class:`~shuttle.errors.ShuttleError` becomes one line on stderr and
exit code 1; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .config import Scenario, load_scenario
from .errors import ConfigError, ShuttleError

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger(__name__)


def _configure_logging(verbosity: int) -> None:
    level = max(10, 30 - 10 * verbosity)
    logging.basicConfig(
        stream=sys.stderr, level=level, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("shuttle").setLevel(level)


class _Progress:
    """A one-line progress display on a terminal (stderr); silent when not a TTY."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        width = 24
        frac = done / total if total else 1.0
        bar = "#" * int(frac * width)
        click.echo(f"\r{stage:<14} [{bar:<{width}}] {done}/{total}", err=True, nl=False)
        if done >= total:
            click.echo("", err=True)


def _errors(f: F) -> F:
    """Turn a ShuttleError into a one-line message and exit code 1."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except ShuttleError as e:
            raise click.ClickException(
                str(e).splitlines()[0] if str(e) else type(e).__name__
            ) from e

    return wrapper  # type: ignore[return-value]


class Ctx:
    """Options shared by every command."""

    def __init__(self, data_dir: Path | None, cache_dir: Path | None, verbosity: int) -> None:
        self.data_dir = data_dir
        self.cache_dir = cache_dir
        self.progress = _Progress(sys.stderr.isatty() and verbosity >= 0)

    def scenario(self, name_or_file: str | None) -> Scenario:
        return load_scenario(name_or_file, data_dir=self.data_dir)


scenario_opt = click.option(
    "--scenario",
    "-s",
    "scenario_name",
    default="nw3",
    show_default=True,
    metavar="NAME|FILE",
    help="Packaged scenario name or a scenario TOML file.",
)


gtfs_dir_opt = click.option(
    "--gtfs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="gtfs_out",
    show_default=True,
    help="Folder for the GTFS feed.",
)
maps_dir_opt = click.option(
    "--maps-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="maps",
    show_default=True,
    help="Folder for the map, its index and the report.",
)
frequencies_opt = click.option(
    "--frequencies", is_flag=True, help="Write frequencies.txt instead of exact times."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shuttle")
@click.option("--verbose", "-v", count=True, help="More log output (-vv for debug).")
@click.option("--quiet", "-q", count=True, help="Less output.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SHUTTLE_DATA",
    help="Data directory (default: $SHUTTLE_DATA, else ../shared/data).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SHUTTLE_CACHE",
    help="Road graph cache (default: $SHUTTLE_CACHE, else ~/.cache/shuttle).",
)
@click.pass_context
def main(
    ctx: click.Context, verbose: int, quiet: int, data_dir: Path | None, cache_dir: Path | None
) -> None:
    """Plan a district bus shuttle: road network, stops, routes, timetable, GTFS and a map."""
    verbosity = verbose - quiet
    _configure_logging(verbosity)
    ctx.obj = Ctx(data_dir, cache_dir, verbosity)


# ---------------------------------------------------------------------------------- network


@main.group()
def network() -> None:
    """Build and inspect the road graph."""


def _network_options(f: F) -> F:
    f = click.option("--refresh", is_flag=True, help="Rebuild even if a cached graph exists.")(f)
    f = click.option("--online", is_flag=True, help="Download from the Overpass API (osmnx).")(f)
    return scenario_opt(f)  # type: ignore[no-any-return]


def _graph(obj: Ctx, scen: Scenario, *, online: bool = False, refresh: bool = False) -> Any:
    from . import pipeline

    if online:
        scen = pipeline.scenario_with_source(scen, "online")
    return pipeline.build_network(
        scen, cache_dir=obj.cache_dir, refresh=refresh, progress=obj.progress
    )


@network.command("build")
@_network_options
@click.option(
    "--graphml",
    "graphml_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also export the graph as GraphML to this file.",
)
@click.pass_obj
@_errors
def network_build(
    obj: Ctx, scenario_name: str, online: bool, refresh: bool, graphml_out: Path | None
) -> None:
    """Build the drivable road graph of the scenario's districts (cached)."""
    from . import network as net

    scen = obj.scenario(scenario_name)
    G = _graph(obj, scen, online=online, refresh=refresh)
    click.echo(f"road graph: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges")
    if "cache_path" in G.graph:
        click.echo(f"cached in {G.graph['cache_path']}")
    if graphml_out is not None:
        net.save_graphml(G, graphml_out)
        click.echo(f"wrote {graphml_out}")


@network.command("info")
@_network_options
@click.pass_obj
@_errors
def network_info(obj: Ctx, scenario_name: str, online: bool, refresh: bool) -> None:
    """Print nodes, edges and km of road by district and class, and the named share."""
    from . import network as net

    scen = obj.scenario(scenario_name)
    G = _graph(obj, scen, online=online, refresh=refresh)
    click.echo(net.format_info(net.graph_info(G, scen)))


# ----------------------------------------------------------------------------------- design


@main.command()
@scenario_opt
@click.option(
    "--method",
    type=click.Choice(["greedy", "anneal"]),
    default=None,
    help="Design method (default: the scenario's).",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="gtfs_out",
    show_default=True,
    help="Folder for <scenario>.routes.json and .geojson.",
)
@click.pass_obj
@_errors
def design(obj: Ctx, scenario_name: str, method: str | None, out_dir: Path) -> None:
    """Design the shuttle routes; write the route set as JSON and GeoJSON."""
    from . import pipeline

    scen = obj.scenario(scenario_name)
    d = pipeline.make_design(scen, method=method, cache_dir=obj.cache_dir, progress=obj.progress)
    for p in pipeline.write_design(d, scen, out_dir):
        click.echo(f"wrote {p}")
    k = d.kpis
    click.echo(
        f"{len(d.routes)} routes, {len(d.stops)} stops; objective {k.objective:.4f}; "
        f"ATT {k.att_min:.2f} min; d0 {k.d0:.1f}% d1 {k.d1:.1f}% d2 {k.d2:.1f}% "
        f"unserved {k.dun:.1f}%; coverage {100 * k.coverage:.1f}%"
    )


# ---------------------------------------------------------------------------------- outputs


def _plan(obj: Ctx, scen: Scenario) -> Any:
    from . import pipeline

    return pipeline.make_plan(scen, cache_dir=obj.cache_dir, progress=obj.progress)


@main.command()
@scenario_opt
@gtfs_dir_opt
@frequencies_opt
@click.pass_obj
@_errors
def export(obj: Ctx, scenario_name: str, gtfs_dir: Path, frequencies: bool) -> None:
    """Write the GTFS feed to <gtfs-dir>/<scenario>.zip."""
    from . import gtfs

    scen = obj.scenario(scenario_name)
    plan = _plan(obj, scen)
    path = gtfs.write_feed(plan, gtfs_dir / f"{scen.name}.zip", frequencies=frequencies)
    for w in plan.timetable.warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(f"wrote {path}")


@main.command("map")
@scenario_opt
@maps_dir_opt
@click.pass_obj
@_errors
def map_(obj: Ctx, scenario_name: str, maps_dir: Path) -> None:
    """Write the public map to <maps-dir>/<scenario>.html and update the index."""
    from . import io, maps

    scen = obj.scenario(scenario_name)
    plan = _plan(obj, scen)
    with io.output_lock(maps_dir):  # the map and the index of one run, even with a plan running
        click.echo(f"wrote {maps.save_map(plan, maps_dir, index=False)}")
        click.echo(f"wrote {maps.write_index(maps_dir)}")


@main.command()
@click.argument("scenarios", nargs=-1)
@click.option(
    "--out-dir", type=click.Path(file_okay=False, path_type=Path), default="maps", show_default=True
)
@click.pass_obj
@_errors
def report(obj: Ctx, scenarios: tuple[str, ...], out_dir: Path) -> None:
    """Write the officers' report (HTML, JSON); several scenarios give a comparison."""
    from . import report as rep

    plans = [_plan(obj, obj.scenario(s)) for s in (scenarios or ("nw3",))]
    for p in rep.write_report(plans, out_dir):
        click.echo(f"wrote {p}")


@main.command()
@scenario_opt
@gtfs_dir_opt
@maps_dir_opt
@frequencies_opt
@click.option(
    "--existing/--no-existing",
    default=True,
    show_default=True,
    help="Compare with the existing bus and metro network (needs the all-Seoul graph, cached).",
)
@click.option(
    "--curve/--no-curve",
    default=True,
    show_default=True,
    help="Put the budget curve in the report: the design planned at each of the scenario's "
    "budget.curve_fleets (about 30 s per fleet budget on nw3, two at a time).",
)
@click.pass_obj
@_errors
def plan(
    obj: Ctx,
    scenario_name: str,
    gtfs_dir: Path,
    maps_dir: Path,
    frequencies: bool,
    existing: bool = True,
    curve: bool = True,
) -> None:
    """Run the whole chain: network, design, timetable, GTFS, map and report."""
    from . import pipeline, sweep

    scen = obj.scenario(scenario_name)
    out = pipeline.run_plan(
        scen,
        gtfs_dir=gtfs_dir,
        maps_dir=maps_dir,
        cache_dir=obj.cache_dir,
        frequencies=frequencies,
        progress=obj.progress,
        existing=existing,
        curve=sweep.budget_curve if curve else None,
    )
    click.echo(f"GTFS feed: {out.feed}")
    for p in out.design:
        click.echo(f"route set: {p}")
    click.echo(f"map:       {out.map}")
    click.echo(f"map index: {out.index}")
    for p in out.report:
        click.echo(f"report:    {p}")


@main.command()
@scenario_opt
@gtfs_dir_opt
@click.pass_obj
@_errors
def baseline(obj: Ctx, scenario_name: str, gtfs_dir: Path) -> None:
    """Write the existing bus network as GTFS (<gtfs-dir>/<scenario>.baseline.zip) and its
    import report (.baseline.json: routes and stops left out, modelled vs table figures)."""
    from . import pipeline

    scen = obj.scenario(scenario_name)
    feed, rep = pipeline.run_baseline(
        scen, gtfs_dir=gtfs_dir, cache_dir=obj.cache_dir, progress=obj.progress
    )
    click.echo(f"GTFS feed: {feed}")
    click.echo(f"report:    {rep}")


@main.command()
@click.argument("feed", type=click.Path(path_type=Path))
@click.pass_obj
@_errors
def validate(obj: Ctx, feed: Path) -> None:
    """Check a GTFS feed with the gtfs-validator package; exit 1 if it has errors.

    gtfs-validator (PyPI) is a Python port of MobilityData's GTFS validator; the first line
    names its version and the MobilityData release whose rules it follows.
    """
    from . import gtfs

    summary = gtfs.validate_feed(feed)
    click.echo(gtfs.format_summary(summary))
    if getattr(summary, "errors", 0):
        raise SystemExit(1)


@main.command()
@scenario_opt
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="SECTION.KEY=V1,V2",
    help="A grid axis, e.g. design.routes=4,6,8 (repeat for more axes).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Dask scheduler address of a cluster, e.g. tcp://10.0.0.5:8786 (default: local threads).",
)
@click.option("--processes", is_flag=True, help="Run the variants in local worker processes.")
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Local threads/processes."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV file (default: gtfs_out/<scenario>.sweep.csv).",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the budget curve (needs --set budget.fleet=...) as FILE.svg or FILE.html.",
)
@click.pass_obj
@_errors
def sweep(
    obj: Ctx,
    scenario_name: str,
    assignments: tuple[str, ...],
    scheduler: str | None,
    processes: bool,
    workers: int | None,
    out: Path | None,
    plot: Path | None,
) -> None:
    """Run a grid of scenario variants with Dask and write one row of figures per variant.

    A variant the budget cannot run gets a row with the error text; the exit code is the number
    of such variants (at most 125), 0 when all ran.
    """
    from . import sweep as sw

    base = obj.scenario(scenario_name)
    grid = dict(sw.parse_assignment(a) for a in assignments)
    variants = sw.expand_grid(base, grid)
    if plot is not None and "budget.fleet" not in grid:
        raise ConfigError(f"--plot {plot}: the budget curve needs --set budget.fleet=N1,N2,...")
    if plot is not None and plot.suffix.lower() not in (".svg", ".html", ".htm"):
        raise ConfigError(f"--plot {plot}: expected a file name ending in .svg or .html")
    if scheduler and processes:
        raise ConfigError("--scheduler and --processes: choose one (a cluster or local processes)")
    client = None
    if scheduler:
        try:
            from dask.distributed import Client

            client = Client(scheduler, timeout=30)
        except ImportError as e:
            msg = "--scheduler needs dask.distributed: pip install 'shuttle[cluster]'"
            raise ConfigError(msg) from e
        except (OSError, TimeoutError, ValueError) as e:
            msg = f"--scheduler {scheduler}: cannot connect ({e})"
            raise ConfigError(msg) from e
    try:
        rows = sw.run_sweep(
            base,
            variants,
            cache_dir=obj.cache_dir,
            client=client,
            scheduler="processes" if processes else "threads",
            num_workers=workers,
            labels=sw.grid_labels(variants, grid),
        )
    finally:
        if client is not None:
            client.close()
    path = sw.write_sweep(rows, out or Path("gtfs_out") / f"{base.name}.sweep.csv")
    click.echo(sw.rows_to_csv(rows), nl=False)
    click.echo(f"wrote {path}")
    if plot is not None:
        others = [{k: v for k, v in c.items() if k != "budget.fleet"} for c in sw.grid_combos(grid)]
        series = [",".join(f"{k}={v}" for k, v in c.items()) for c in others]
        title = " · ".join(t for t in (base.title_ko, base.title_en) if t)
        svg = sw.budget_curve_svg(rows, title=title, series=series)
        click.echo(f"wrote {sw.write_plot(svg, plot, title=title)}")
    failed = sum(1 for r in rows if not r.ok)
    if failed:
        click.echo(f"{failed} of {len(rows)} variants infeasible (rows with an error)", err=True)
        raise SystemExit(min(failed, 125))
