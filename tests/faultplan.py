"""`shuttle plan` on the toy design: the real CLI and writers, without the road graph or a design.

Fault tests run it as a subprocess (``python tests/faultplan.py TAG [plan options]``) or patch the
same functions in-process (:func:`install`). ``TAG`` goes into the scenario's English title and
agency name, so every output (feed, map, index, report, route set) says which run wrote it.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import Any

from toyplan import toy_design

from shuttle import cli, pipeline
from shuttle.config import Scenario


def title(tag: str) -> str:
    """The English title (and agency name) of a run tagged ``tag``."""
    return f"Toy run {tag}"


def patches(tag: str) -> list[tuple[Any, str, Callable[..., Any]]]:
    """(object, attribute, replacement) triples that make ``shuttle plan`` a toy run."""
    real = cli.Ctx.scenario

    def scenario(self: cli.Ctx, name_or_file: str | None) -> Scenario:
        s = real(self, name_or_file)
        return dataclasses.replace(s, title_en=title(tag), agency_en=title(tag))

    return [
        (cli.Ctx, "scenario", scenario),
        (pipeline, "build_network", lambda *a, **k: None),
        (pipeline, "make_design", lambda *a, **k: toy_design()),
        (pipeline, "try_baseline", lambda *a, **k: (None, "a toy run has no existing network")),
    ]


def install(tag: str) -> None:
    """Apply :func:`patches` for good (in a subprocess)."""
    for obj, name, value in patches(tag):
        setattr(obj, name, value)


if __name__ == "__main__":
    install(sys.argv[1])
    cli.main(["plan", "--no-existing", *sys.argv[2:]], prog_name="shuttle")
