"""The harness's record of which suite an output directory holds.

``DIR/harness.json`` keeps the suite's content (``Suite.content()``) from the first run. A rerun
with the same content resumes; one with another content is refused with the list of what
changed, since its finished cells would mix two suites. The ``[analysis]`` settings are not part
of the content: changing them only redraws the summary.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

STATE_FILE = "harness.json"
FORMAT = 1


def changes(old: Any, new: Any, where: str = "") -> list[str]:
    """What differs between two JSON values, one line per difference (dotted paths):
    ``budget.trials: 3 -> 4``, ``methods.pbt: added``."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out = []
        for k in list(old) + [k for k in new if k not in old]:
            path = f"{where}.{k}" if where else str(k)
            if k not in new:
                out.append(f"{path}: removed")
            elif k not in old:
                out.append(f"{path}: added")
            else:
                out += changes(old[k], new[k], path)
        return out
    if old != new:
        return [f"{where or 'suite'}: {_short(old)} -> {_short(new)}"]
    return []


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def claim(out: Path, content: Mapping[str, Any]) -> bool:
    """Records ``content`` in ``out`` (a new or empty directory), or checks that ``out`` holds
    the same suite. Returns True when resuming. Raises ValueError naming what changed."""
    path = out / STATE_FILE
    if path.is_file():
        try:
            stored = json.loads(path.read_text())
        except ValueError as exc:
            raise ValueError(f"{path} is damaged ({exc}); use a new --out directory") from None
        if stored.get("format") != FORMAT or "suite" not in stored:
            raise ValueError(f"{path}: not a harness state of format {FORMAT}")
        diff = changes(stored["suite"], _plain(content))
        if diff:
            shown = "; ".join(diff[:8]) + (f"; and {len(diff) - 8} more" if len(diff) > 8 else "")
            raise ValueError(
                f"{out} holds results of a different suite ({shown}); rerun the original suite "
                "or use a new --out directory"
            )
        return True
    if out.is_dir() and any(out.iterdir()):
        raise ValueError(
            f"{out} is not empty and holds no {STATE_FILE}: expected a new or empty directory, "
            "or one written by mbrlhpo bench"
        )
    out.mkdir(parents=True, exist_ok=True)
    write_json(path, {"format": FORMAT, "suite": _plain(content)})
    return False


def _plain(content: Mapping[str, Any]) -> Any:
    return json.loads(json.dumps(content))  # tuples as lists, as they read back


def write_json(path: Path, data: Any) -> None:
    """``data`` as JSON at ``path``, atomically (a kill leaves the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, allow_nan=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
