"""How long the reliability suite runs: a short default that fits CI, longer on request.

Each figure can be set on its own (``TESSERA_CRASH_KILLS=1000``), or all at once to the long
figures with ``TESSERA_RELIABILITY=long``; docs/reliability.md lists them.
"""

from __future__ import annotations

import os


def knob(name: str, *, ci: int, long: int) -> int:
    """``TESSERA_<name>`` if set, else the long or the CI figure."""
    raw = os.environ.get(f"TESSERA_{name}")
    if raw:
        return int(raw)
    return long if os.environ.get("TESSERA_RELIABILITY", "").lower() == "long" else ci
