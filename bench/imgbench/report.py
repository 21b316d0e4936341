"""Summaries of the timed runs: medians over rounds, ratios to iipsrv, the table and the record."""
from __future__ import annotations

import json
import statistics
from pathlib import Path

from .load import RunResult

BASELINE = "iipsrv"


def summarize(runs: list[RunResult]) -> list[dict]:
    """One row per (mix, concurrency, server): medians over rounds, and ratios to the baseline."""
    groups: dict[tuple[str, int, str], list[RunResult]] = {}
    for r in runs:
        groups.setdefault((r.mix, r.concurrency, r.server), []).append(r)
    rows = []
    for (mix, conc, server), rs in groups.items():
        rows.append({
            "mix": mix, "concurrency": conc, "server": server, "rounds": len(rs),
            "rps": round(statistics.median(r.rps for r in rs), 1),
            "rps_min": min(r.rps for r in rs), "rps_max": max(r.rps for r in rs),
            "p50_ms": round(statistics.median(r.p50_ms for r in rs), 2),
            "p99_ms": round(statistics.median(r.p99_ms for r in rs), 2),
            "errors": sum(sum(r.errors.values()) for r in rs),
            "client_cpu_pct": round(statistics.median(r.client_cpu_pct for r in rs), 1),
            "server_cpu_pct": round(statistics.median(r.server_cpu_pct for r in rs), 1),
            "other_cpu_pct": round(statistics.median(r.other_cpu_pct for r in rs), 1),
        })
    base = {(r["mix"], r["concurrency"]): r for r in rows if r["server"] == BASELINE}
    for r in rows:
        b = base.get((r["mix"], r["concurrency"]))
        r["rps_ratio"] = round(r["rps"] / b["rps"], 2) if b and b["rps"] else None
        r["p99_ratio"] = round(r["p99_ms"] / b["p99_ms"], 2) if b and b["p99_ms"] else None
    order = {BASELINE: 0}
    rows.sort(key=lambda r: (r["mix"] != "tiles", r["mix"], r["concurrency"], order.get(r["server"], 1), r["server"]))
    return rows


def table(rows: list[dict]) -> str:
    """A Markdown table, printed to the terminal and pasted into bench/README.md."""
    head = ("| mix | c | server | req/s (median) | min–max | p50 ms | p99 ms | × iipsrv req/s "
            "| × iipsrv p99 | errors | server CPU % | wrk CPU % | other CPU % |")
    sep = "|" + "---|" * 13
    lines = [head, sep]
    for r in rows:
        ratio = "" if r["server"] == BASELINE or r["rps_ratio"] is None else f"{r['rps_ratio']:.2f}×"
        p99r = "" if r["server"] == BASELINE or r["p99_ratio"] is None else f"{r['p99_ratio']:.2f}×"
        lines.append(f"| {r['mix']} | {r['concurrency']} | {r['server']} | {r['rps']:.0f} | "
                     f"{r['rps_min']:.0f}–{r['rps_max']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                     f"{ratio} | {p99r} | {r['errors']} | {r['server_cpu_pct']:.0f} | {r['client_cpu_pct']:.0f} | "
                     f"{r['other_cpu_pct']:.0f} |")
    return "\n".join(lines)


def pass_table(passes: list[dict]) -> str:
    """The checked first pass (each distinct URL once, caches cold)."""
    lines = ["| mix | server | URLs | seconds | req/s | p50 ms | p99 ms | failures |", "|" + "---|" * 8]
    for p in passes:
        lines.append(f"| {p['mix']} | {p['server']} | {p['requests']} | {p['seconds']:.1f} | {p['rps']:.0f} | "
                     f"{p['p50_ms']:.1f} | {p['p99_ms']:.1f} | {p['failure_count']} |")
    return "\n".join(lines)


CEILING = "nginx-static"
# issue 9: (mix, concurrency, ≥ this × iipsrv's req/s, p99 ≤ this × iipsrv's or None)
TARGETS = (("tiles", 4, 4.0, 0.5), ("thumbs", 4, 3.0, None))


def verdict(rows: list[dict], targets: tuple[tuple[str, int, float, float | None], ...] = TARGETS) -> str:
    """The targets, per Heritage Lab server measured, and each one's share of the static ceiling."""
    heritage = sorted({r["server"] for r in rows if r["server"].startswith("heritage")})
    by_key = {(r["mix"], r["concurrency"], r["server"]): r for r in rows}
    lines = []
    for server in heritage:
        for mix, conc, min_ratio, max_p99 in targets:
            row = by_key.get((mix, conc, server))
            if row is None or row["rps_ratio"] is None:
                lines.append(f"target: not measured ({server} at c={conc} on the {mix} mix missing)")
                continue
            ok = row["rps_ratio"] >= min_ratio and (
                max_p99 is None or (row["p99_ratio"] is not None and row["p99_ratio"] <= max_p99))
            need = f"need ≥ {min_ratio:.1f}×" + (f", p99 ≤ {max_p99:.2f}×" if max_p99 is not None else "")
            lines.append(f"target {'MET' if ok else 'NOT MET'}: {mix} c={conc} {server} {row['rps']:.0f} req/s = "
                         f"{row['rps_ratio']:.2f}× iipsrv, p99 {row['p99_ms']:.1f} ms = {row['p99_ratio']:.2f}× "
                         f"iipsrv's ({need})")
    for (mix, conc, server), row in sorted(by_key.items()):
        ceiling = by_key.get((mix, conc, CEILING))
        if server.startswith("heritage") and ceiling and ceiling["rps"]:
            lines.append(f"ceiling: {mix} c={conc} {server} {row['rps']:.0f} req/s = "
                         f"{100 * row['rps'] / ceiling['rps']:.0f} % of nginx serving the same files "
                         f"({ceiling['rps']:.0f} req/s)")
    return "\n".join(lines)


def noise_warning(rows: list[dict], limit: float = 20.0) -> str | None:
    """Other processes on this 2-core machine distort the figures: say so when they ran."""
    noisy = [r for r in rows if r["other_cpu_pct"] > limit]
    if not noisy:
        return None
    worst = max(r["other_cpu_pct"] for r in noisy)
    return (f"warning: other processes used up to {worst:.0f} % of a core during {len(noisy)} of {len(rows)} "
            f"measurements (median per row); rerun on a quiet machine for figures to record")


def write_json(path: Path, record: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    return path
