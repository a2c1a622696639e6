#!/usr/bin/env python3
"""bench-table.py [--idle-kb N] RESULTS...: issue 13's budget table.

Reads the results.tsv that ../shared/bench/compare.sh writes (wirecheck added
as server "wirecheck", plus the ECDSA handshake rows scripts/bench.sh appends
with mode "full-ec"; the column-aligned copy `make bench` prints reads too).
Given several runs, every figure is the median of the runs (the VM is shared:
one run's p99 moves by 2x). Prints, per fixture, CPU per request of wirecheck,
the Go peer and nginx, the ratios, p99 at every connection count and errors,
then the handshake and memory lines, each with its budget and met / MISSED.
"""
import statistics
import sys

WC, GO, NGX = "wirecheck", "go", "nginx"
FIXTURES = ["service", "servicemonitor", "deployment", "large"]


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def verdict(ok):
    return "-" if ok is None else ("met" if ok else "MISSED")


def read_run(path):
    """Rows of one run: a TSV or its `column -t` rendering (no field has spaces)."""
    lines = [l.split() for l in open(path) if l.strip() and not l.startswith("#")]
    head = lines[0]
    return [dict(zip(head, l)) for l in lines[1:] if len(l) == len(head)]


def median_rows(runs):
    """One row per cell, each numeric field the median over the runs that have it."""
    keys, cells = [], {}
    for run in runs:
        for r in run:
            k = (r["server"], r["mode"], r["fixture"], r["conns"])
            if k not in cells:
                keys.append(k)
                cells[k] = []
            cells[k].append(r)
    rows = []
    for k in keys:
        merged = dict(cells[k][0])
        for field in merged:
            vals = [num(r.get(field)) for r in cells[k]]
            vals = [v for v in vals if v is not None]
            if vals and field not in ("conns",) and num(merged[field]) is not None:
                merged[field] = str(statistics.median(vals))
        rows.append(merged)
    return rows, {k: r for k, r in zip(keys, rows)}


def main():
    args = sys.argv[1:]
    idle_kb = None
    if args[:1] == ["--idle-kb"]:
        idle_kb, args = num(args[1]), args[2:]
    runs = [read_run(path) for path in args]
    rows, cell = median_rows(runs)
    if len(runs) > 1:
        print(f"(median of {len(runs)} runs)")
    conns = sorted({r["conns"] for r in rows if r["mode"] == "keepalive"}, key=int)

    def get(s, f, c, k, mode="keepalive"):
        r = cell.get((s, mode, f, c))
        return num(r[k]) if r else None

    def fmt(v, d=0):
        return "-" if v is None else f"{v:,.{d}f}"

    def ratio(a, b):
        return None if a is None or b in (None, 0) else a / b

    print("CPU per request (server process utime+stime / requests, keep-alive), "
          "p99 and errors per connection count")
    head = ["fixture", "conns", "wc us", "Go us", "nginx us", "wc/nginx", "Go/wc",
            "p99 ms wc", "p99 nginx", "p99 wc/nginx", "wc err/non2xx", "CPU <=2x nginx", "CPU Go/wc",
            "p99 <=2x nginx"]
    out = [head]
    for f in FIXTURES:
        for c in conns:
            wc, go, ng = (get(s, f, c, "proc_us_req") for s in (WC, GO, NGX))
            p99w, p99n = get(WC, f, c, "p99_ms"), get(NGX, f, c, "p99_ms")
            errs = (get(WC, f, c, "errors"), get(WC, f, c, "non2xx"))
            need = 10 if f == "large" else 5
            rn, rg, rp = ratio(wc, ng), ratio(go, wc), ratio(p99w, p99n)
            err_ok = None if None in errs else errs == (0, 0)
            out.append([f, c, fmt(wc), fmt(go), fmt(ng), fmt(rn, 2), fmt(rg, 1),
                        fmt(p99w, 1), fmt(p99n, 1), fmt(rp, 2),
                        "/".join(fmt(e) for e in errs),
                        verdict(None if rn is None else rn <= 2.0),
                        verdict(None if rg is None else rg >= need) + f" (>={need}x)",
                        verdict(None if rp is None else (rp <= 2.0 and err_ok is not False))])
    widths = [max(len(str(r[i])) for r in out) for i in range(len(head))]
    for r in out:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)))

    print()
    print("Handshakes (deployment, 16 connections; us of server CPU per request)")
    for mode, label in (("full", "full handshake, RSA-2048"), ("full-ec", "full handshake, ECDSA P-256"),
                        ("close", "TLS resumed (Connection: close), RSA-2048")):
        fx = next((r["fixture"] for r in rows if r["mode"] == mode), None)
        if fx is None:
            continue
        c = next(r["conns"] for r in rows if r["mode"] == mode)
        wc, ng, go = (get(s, fx, c, "proc_us_req", mode) for s in (WC, NGX, GO))
        r = ratio(wc, ng)
        budget = verdict(None if r is None else r <= 1.2) + " (<=1.2x)" if mode.startswith("full") else "(no budget)"
        print(f"  {label:42s} wirecheck {fmt(wc):>6}  nginx {fmt(ng):>6}  Go {fmt(go):>6}  "
              f"wc/nginx {fmt(r, 2):>5}  {budget}")

    if idle_kb is not None:
        print()
        print(f"Idle RSS: {idle_kb / 1024:.1f} MB  {verdict(idle_kb <= 10 * 1024)} (<=10 MB)")
    last = [r for r in rows if r["server"] == WC and num(r["rss_kb"])]
    if last:
        print(f"RSS after the load matrix: {num(last[-1]['rss_kb']) / 1024:.1f} MB")


if __name__ == "__main__":
    main()
