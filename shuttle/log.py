"""Progress reporting shared by the long stages.

The library never prints. A long stage calls :func:`step` with a ``progress`` callback that the
CLI supplies (a terminal progress bar); every call is also logged at DEBUG level, and the start
and end of each stage at INFO level, through :mod:`logging`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["ProgressFn", "step"]

#: ``progress(stage, done, total)``: called as a long stage advances.
ProgressFn = Callable[[str, int, int], None]

_log = logging.getLogger("shuttle")


def step(progress: ProgressFn | None, stage: str, done: int, total: int) -> None:
    """Report that ``done`` of ``total`` units of ``stage`` are finished."""
    if done == 0 or done == total:
        _log.info("%s: %d/%d", stage, done, total)
    else:
        _log.debug("%s: %d/%d", stage, done, total)
    if progress is not None:
        progress(stage, done, total)
