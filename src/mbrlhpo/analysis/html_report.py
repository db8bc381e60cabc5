"""``mbrlhpo report --html``: one self-contained interactive page of a study (plotly, its
JavaScript inlined, so the page opens offline and can be mailed as one file).

Figures: every member's returns per trial, the PBT lineage (each exploit as a jump from its
source to its destination, each explore as a point with the old and new values), every
member's hyperparameters per trial, the Hyperband rungs (each configuration's score at each
budget it reached) and the best lineage against the defaults, with the sentences of
:mod:`mbrlhpo.analysis.verdict`. plotly is optional: ``pip install mbrlhpo[report]``.

The page is written to a temporary file and renamed over the old one, so a browser that
reloads it (``refresh``: ``report --watch``) never reads half a page.
"""

from __future__ import annotations

import html
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mbrlhpo.analysis.records import learning_curves, read_study, searched_names, summarize

_LOG_NAMES = {"lr", "weight_decay"}  # log-scaled search spaces: drawn on a log axis
_POPULATION = ("random", "pbt", "pbt-bt")


def need_plotly() -> None:
    """ImportError naming the extra when plotly is missing (checked before any work)."""
    import importlib.util

    if importlib.util.find_spec("plotly") is None:
        raise ImportError(
            "report --html needs plotly: pip install 'mbrlhpo[report]' (or pip install plotly)"
        )


def _num(v: Any) -> float | None:
    """A finite float or None (JSON null: plotly leaves a gap)."""
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _ret(t: Mapping[str, Any]) -> float | None:
    return _num(t.get("ret")) if t.get("status", "ok") == "ok" else None


def _per_member(rows: Sequence[Mapping[str, Any]]) -> dict[int, list[Mapping[str, Any]]]:
    out: dict[int, list[Mapping[str, Any]]] = {}
    for r in sorted(rows, key=lambda r: (r["member"], r["trial"])):
        out.setdefault(int(r["member"]), []).append(r)
    return out


_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


def _color(member: int) -> str:
    """One colour per member in every figure."""
    return _PALETTE[member % len(_PALETTE)]


def _whole_ticks(values: Sequence[Any]) -> dict[str, Any]:
    """Axis settings with ticks on whole numbers only (trials, members), about ten of them."""
    nums = [v for v in values if isinstance(v, (int, float))]
    if not nums:
        return {}
    span = max(nums) - min(nums)
    return {"tickmode": "linear", "tick0": min(nums), "dtick": max(1, math.ceil(span / 10))}


def _layout(fig: Any, title: str, x: str, y: str) -> Any:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        template="plotly_white",
        height=420,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        legend={"font": {"size": 11}},
        font={"size": 13},
    )
    xs = [v for tr in fig.data for v in (tr.x or ()) if v is not None]
    if fig.layout.xaxis.type != "log":
        fig.update_xaxes(**_whole_ticks(xs))  # trials are whole numbers: no 2.5
    return fig


def learning_curves_figure(rec: Mapping[str, Any]) -> Any:
    """Every member's return per trial (a failed trial is a gap), and the defaults dashed."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for m, rows in _per_member(rec["trials"]).items():
        fig.add_trace(
            go.Scatter(
                x=[r["trial"] for r in rows],
                y=[_ret(r) for r in rows],
                mode="lines+markers",
                name=f"member {m}",
                line={"width": 1, "color": _color(m)},
                marker={"size": 4},
            )
        )
    base = rec.get("baseline")
    if base:
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(base["returns"]) + 1)),
                y=[_num(r) for r in base["returns"]],
                mode="lines",
                name="defaults",
                line={"color": "black", "dash": "dash", "width": 2},
            )
        )
    return _layout(fig, "Learning curves (return per trial, every member)", "trial", "return")


def lineage_figure(rec: Mapping[str, Any]) -> Any:
    """PBT lineage: each member's trials as a row of points coloured by return; an exploit
    (or a failed member's replacement) as a jump from its source row to its destination row at
    its round; a backtrack from the elite's round; an explore as a diamond with the change."""
    import plotly.graph_objects as go

    fig = go.Figure()
    rows = list(rec["trials"])
    fig.add_trace(
        go.Scatter(
            x=[r["trial"] for r in rows],
            y=[r["member"] for r in rows],
            mode="markers",
            name="trial (colour: return)",
            marker={
                "size": 7,
                "color": [_ret(r) for r in rows],
                "colorscale": "Viridis",
                "showscale": bool(rows),
                "colorbar": {"title": "return"},
            },
            text=[f"member {r['member']}, trial {r['trial']}: {r.get('ret')}" for r in rows],
            hoverinfo="text",
        )
    )
    styles = {
        "exploit": ("#1f77b4", "exploit (copy from the source)"),
        "replace_failed": ("red", "failed member replaced"),
        "backtrack": ("purple", "backtrack to an elite"),
    }
    for kind, (color, label) in styles.items():
        xs: list[float | None] = []
        ys: list[float | None] = []
        for e in rec.get("lineage", []):
            if e["kind"] != kind or e.get("src") is None or e.get("dst") is None:
                continue
            x0 = e.get("src_round") if kind == "backtrack" else e["round"]
            xs += [x0 if x0 is not None else e["round"], e["round"], None]
            ys += [e["src"], e["dst"], None]
        if xs:
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines+markers",
                    name=label,
                    line={"color": color, "width": 1.5},
                    marker={"symbol": "arrow", "angleref": "previous", "size": 10},
                )
            )
    explores = [e for e in rec.get("lineage", []) if e["kind"] == "explore"]
    if explores:
        fig.add_trace(
            go.Scatter(
                x=[e["round"] for e in explores],
                y=[e["dst"] for e in explores],
                mode="markers",
                name="explore (new hyperparameters)",
                marker={"symbol": "diamond-open", "size": 11, "color": "orange"},
                text=[_explore_text(e) for e in explores],
                hoverinfo="text",
            )
        )
    fig = _layout(fig, "PBT lineage: exploit and explore events", "trial", "member")
    fig.update_yaxes(**_whole_ticks([r["member"] for r in rows]))
    fig.update_layout(legend={"orientation": "h", "y": -0.2})  # the colour bar is on the right
    return fig


def _explore_text(e: Mapping[str, Any]) -> str:
    old, new = e.get("old_config") or {}, e.get("new_config") or {}
    changed = [f"{k}: {old.get(k)} -> {v}" for k, v in new.items() if old.get(k) != v]
    return f"member {e['dst']}, round {e['round']}<br>" + "<br>".join(changed or ["no change"])


def schedule_figure(rec: Mapping[str, Any], names: Sequence[str]) -> Any:
    """Every member's value of each searched hyperparameter per trial (one panel each)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = list(names)
    fig = make_subplots(rows=len(names), cols=1, subplot_titles=names, shared_xaxes=True)
    for m, rows in _per_member(rec["schedule"]).items():
        for i, n in enumerate(names):
            fig.add_trace(
                go.Scatter(
                    x=[r["trial"] for r in rows],
                    y=[_num(r["config"].get(n)) for r in rows],
                    mode="lines",
                    name=f"member {m}",
                    legendgroup=f"member {m}",
                    showlegend=i == 0,
                    line={"width": 1, "shape": "hv", "color": _color(m)},
                ),
                row=i + 1,
                col=1,
            )
    for i, n in enumerate(names):
        if n in _LOG_NAMES:
            fig.update_yaxes(type="log", row=i + 1, col=1)
    fig = _layout(fig, "Hyperparameter schedules (every member)", "", "")
    fig.update_layout(height=max(300, 220 * len(names)))
    fig.update_xaxes(title_text="trial", row=len(names), col=1)
    return fig


def hyperband_figure(rec: Mapping[str, Any]) -> Any:
    """Hyperband/BOHB rungs: each configuration's score (-loss) at every budget it ran, lines
    joining a promoted configuration's rungs; failed jobs as crosses at the bottom."""
    import plotly.graph_objects as go

    by_cfg: dict[tuple, list[Mapping[str, Any]]] = {}
    for j in rec["hb_jobs"]:
        by_cfg.setdefault(tuple(j["config_id"]), []).append(j)

    def score(j: Mapping[str, Any]) -> float | None:
        loss = _num(j.get("loss"))
        return -loss if j["status"] == "ok" and loss is not None else None

    fig = go.Figure()
    low = min((s for j in rec["hb_jobs"] if (s := score(j)) is not None), default=0.0)
    for cid, jobs in sorted(by_cfg.items()):
        jobs = sorted(jobs, key=lambda j: j["trials"])
        fig.add_trace(
            go.Scatter(
                x=[j["trials"] for j in jobs],
                y=[low if score(j) is None else score(j) for j in jobs],
                mode="lines+markers",
                name=f"config {'-'.join(str(c) for c in cid)}",
                marker={"symbol": ["x" if score(j) is None else "circle" for j in jobs], "size": 8},
                line={"width": 1},
            )
        )
    fig.update_xaxes(type="log")
    fig = _layout(fig, "Hyperband rungs (score per budget)", "budget (trials)", "score")
    budgets = sorted({j["trials"] for j in rec["hb_jobs"]})
    fig.update_xaxes(tickmode="array", tickvals=budgets, ticktext=[str(b) for b in budgets])
    return fig


def best_vs_defaults_figure(curves: Mapping[str, Any]) -> Any:
    """The best lineage's returns and the defaults' per trial."""
    import plotly.graph_objects as go

    fig = go.Figure()
    best = curves.get("best") or []
    fig.add_trace(
        go.Scatter(
            x=[r["step"] for r in best],
            y=[_num(r["ret"]) for r in best],
            mode="lines+markers",
            name="best configuration / schedule",
        )
    )
    base = curves.get("baseline") or []
    if base:
        fig.add_trace(
            go.Scatter(
                x=[r["trial"] for r in base],
                y=[_num(r["ret"]) for r in base],
                mode="lines+markers",
                name="defaults",
                line={"color": "black", "dash": "dash"},
            )
        )
    return _layout(fig, "Best against the defaults (one seed each)", "trial", "return")


def study_state(rec: Mapping[str, Any]) -> str:
    """``done``, ``failed`` or ``running`` from the study's lifecycle events."""
    kinds = [e["kind"] for e in rec.get("events", [])]
    ends = [k for k in kinds if k in ("study_done", "study_error", "all_failed", "study_resume")]
    if ends and ends[-1] == "study_done":
        return "done"
    if ends and ends[-1] in ("study_error", "all_failed"):
        return "failed"
    return "running"


def render_page(rec: Mapping[str, Any], k: int = 5, refresh: float | None = None) -> str:
    """The whole page as a string (plotly's JavaScript inlined once); ``refresh``: seconds
    after which the browser reloads it, while the study runs."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    from mbrlhpo.analysis.report import best_vs_defaults_text, study_anytime
    from mbrlhpo.analysis.verdict import anytime_text

    names = searched_names(rec)
    summ = summarize(rec, k)
    curves = learning_curves(rec, k)
    state = study_state(rec)
    figures: list[tuple[str, Any]] = []
    if rec["trials"]:
        figures.append(("learning-curves", learning_curves_figure(rec)))
        if rec["method"] in ("pbt", "pbt-bt"):
            figures.append(("lineage", lineage_figure(rec)))
        if names and rec["schedule"]:
            figures.append(("schedules", schedule_figure(rec, names)))
    if rec["hb_jobs"]:
        figures.append(("hyperband", hyperband_figure(rec)))
    if curves.get("best"):
        figures.append(("best-vs-defaults", best_vs_defaults_figure(curves)))
    title = f"{rec['method']}" + (f" on {summ['env']}" if summ.get("env") else "")
    facts = [
        f"state: <b>{state}</b> (page written {time.strftime('%Y-%m-%d %H:%M:%S')})",
        f"database: <code>{html.escape(str(rec['db']))}</code>",
        f"members: {summ['members']}, trials done: {summ['trials']}, "
        f"failed: {summ['failed_trials']}",
        "lineage: " + ", ".join(f"{kind} {n}" for kind, n in summ["lineage"].items()),
    ]
    if math.isfinite(summ["best_score"]):
        facts.append(f"best member {summ['best_member']}: score {summ['best_score']:.4g}")
    if summ["baseline_score"] is not None:
        facts.append(html.escape(best_vs_defaults_text(rec, summ)))
        facts.append(html.escape(anytime_text(study_anytime(rec, curves))))
    elif state == "done":
        facts.append("defaults: not run (yet)")
    config = {"displaylogo": False, "responsive": True}
    divs = [
        pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=fid, config=config)
        for fid, fig in figures
    ]
    if not divs:
        divs = ["<p class='empty'>no trial has finished yet</p>"]
    # A finished study's page stays still (no reload loop once nothing changes).
    live = refresh and state == "running"
    meta = f'<meta http-equiv="refresh" content="{refresh:g}">' if live else ""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"{meta}<title>mbrlhpo: {html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em;max-width:1100px}"
        "li{margin:.2em 0}.empty{color:#666}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>"
        f"<h1>Study: {html.escape(title)}</h1><ul>"
        + "".join(f"<li>{f}</li>" for f in facts)
        + "</ul>"
        + "\n".join(divs)
        + "</body></html>\n"
    )


def write_html_report(
    db: str | os.PathLike, path: str | os.PathLike, k: int = 5, refresh: float | None = None
) -> tuple[Path, str]:
    """Reads the study in ``db`` (read-only, one snapshot) and writes its page to ``path``
    atomically. ``refresh``: seconds after which the browser reloads the page. Returns the
    path and the study's state (``running``, ``done`` or ``failed``)."""
    rec = read_study(db)
    page = render_page(rec, k, refresh)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out, study_state(rec)
