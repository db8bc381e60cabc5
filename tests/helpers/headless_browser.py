"""Load a page in a real headless Chromium and report what a person would see go wrong.

Talks the DevTools protocol over ``--remote-debugging-pipe`` (JSON messages ending in NUL;
Chromium reads commands on fd 3 and writes replies and events on fd 4): no port, no extra
package. Domains are enabled on a blank tab before it navigates, so errors thrown while the
page's scripts first run are caught too.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """One headless Chromium with one tab, driven over the DevTools pipe."""

    def __init__(self, executable: str, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="mbrlhpo-chromium-")
        cmd_r, cmd_w = os.pipe()  # we write commands, Chromium reads fd 3
        out_r, out_w = os.pipe()  # Chromium writes fd 4, we read

        def child_fds() -> None:  # runs in the child: put the pipe ends at 3 and 4
            a, b = os.dup(cmd_r), os.dup(out_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",  # CI runs as root
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # never read: a pipe would fill up (and stay unclosed)
            preexec_fn=child_fds,
            pass_fds=(3, 4, cmd_r, out_w),  # 3 and 4: kept open once child_fds set them
        )
        os.close(cmd_r)
        os.close(out_w)
        self._out = os.fdopen(cmd_w, "wb", buffering=0)
        self._in = os.fdopen(out_r, "rb", buffering=0)
        self._next_id = 0
        self._replies: dict[int, dict] = {}
        self._events: queue.Queue = queue.Queue()
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.session: str | None = None

    def _read(self) -> None:
        buf = b""
        while True:
            chunk = self._in.read(65536)
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cond:
                        self._replies[msg["id"]] = msg
                        self._cond.notify_all()
                else:
                    self._events.put(msg)
        with self._cond:
            self._cond.notify_all()

    def send(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        self._next_id += 1
        mid = self._next_id
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        self._out.write(json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while mid not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and mid not in self._replies):
                    raise RuntimeError(f"no reply to {method} from Chromium")
                self._cond.wait(min(left, 0.5))
            reply = self._replies.pop(mid)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def events(self) -> list[dict]:
        out = []
        while True:
            try:
                out.append(self._events.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False)
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for f in (self._out, self._in):
            try:
                f.close()
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)


# Per plotly figure on the page (its div is in the page before plotly draws into it): its id,
# traces, data points and drawn SVG layers.
_FIGURES_JS = """JSON.stringify(Array.from(document.querySelectorAll('.plotly-graph-div')).map(
  d => ({id: d.id, traces: (d.data || []).length,
         points: (d.data || []).reduce((a, t) => a + ((t.x || []).filter(
           (v, i) => v !== null && t.y && t.y[i] !== null && t.y[i] !== undefined)).length, 0),
         svg: d.querySelectorAll('.main-svg').length})))"""


_READY_JS = "document.readyState === 'complete' ? location.href : ''"


def load_page(executable: str, page: Path, settle: float = 20.0) -> dict[str, Any]:
    """Opens ``page`` and returns ``{"errors": [...], "requests": [urls other than the page],
    "figures": [{"id", "traces", "points", "svg"}], "title"}`` once every plotly figure has
    drawn (or ``settle`` seconds passed)."""
    b = Browser(executable)
    try:
        target = b.send("Target.createTarget", {"url": "about:blank"}, session=False)
        att = b.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, False
        )
        b.session = att["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            b.send(f"{domain}.enable")
        url = page.resolve().as_uri()
        b.send("Page.navigate", {"url": url})
        seen: list[dict] = []
        deadline = time.monotonic() + settle
        loaded, figures = False, []
        while time.monotonic() < deadline:
            seen += b.events()
            loaded = loaded or any(e.get("method") == "Page.loadEventFired" for e in seen)
            if loaded:
                # The blank tab's own load event can arrive late: trust only the page itself.
                ready = b.send("Runtime.evaluate", {"expression": _READY_JS, "returnByValue": True})
                if ready["result"].get("value") == url:
                    res = b.send(
                        "Runtime.evaluate", {"expression": _FIGURES_JS, "returnByValue": True}
                    )
                    figures = json.loads(res["result"]["value"])
                    if figures and all(f["svg"] > 0 for f in figures):
                        break
            time.sleep(0.2)
        time.sleep(0.3)  # late console output of the last draw
        seen += b.events()
        title = b.send("Runtime.evaluate", {"expression": "document.title", "returnByValue": True})
        return {
            "loaded": loaded,
            "errors": _errors(seen),
            "requests": [
                e["params"]["request"]["url"]
                for e in seen
                if e.get("method") == "Network.requestWillBeSent"
                and e["params"]["request"]["url"] != url
            ],
            "figures": figures,
            "title": title["result"].get("value"),
        }
    finally:
        b.close()


def _errors(events: list[dict]) -> list[str]:
    out = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            out.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append(" ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            out.append(p["entry"]["text"])
    return out
