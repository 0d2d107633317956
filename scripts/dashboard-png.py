#!/usr/bin/env python3
"""Draws docs/dashboard.png: the time-series panels of the Grafana dashboard
(charts/tagwatch/monitoring/dashboard.json) with the data a Prometheus server scraped in
the end-to-end test (tests/e2e/monitoring.rs saves it to target/monitoring/).

Usage: dashboard-png.py DATA.json OUT.png   (run by `make dashboard-png`)
"""
import json
import math
import re
import sys
from datetime import datetime, timezone

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLUMNS = 3


def legend(metric, query):
    """The panel's legendFormat with its {{label}} placeholders filled in."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), query.get("legend", ""))


def main(data_path, out_path):
    saved = json.load(open(data_path))
    start = saved["start"]
    panels = {}
    for panel in saved["panels"]:
        title = panel["name"].rsplit(" ", 1)[0]
        panels.setdefault(title, []).append(panel)
    rows = math.ceil(len(panels) / COLUMNS)
    fig, axes = plt.subplots(rows, COLUMNS, figsize=(COLUMNS * 5, rows * 2.6), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, (title, queries) in zip(axes.flat, panels.items()):
        ax.set_title(title, fontsize=10, loc="left")
        for query in queries:
            for series in query["data"]["result"]:
                points = [(float(t) - start, float(v)) for t, v in series["values"]]
                points = [(t, v) for t, v in points if not math.isnan(v)]
                if points:
                    xs, ys = zip(*points)
                    ax.plot(xs, ys, label=legend(series["metric"], query), linewidth=1.2)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6, loc="upper left")
    when = datetime.fromtimestamp(start, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    fig.suptitle(f"tagwatch dashboard, end-to-end test data ({when}; x: seconds since start)", fontsize=11)
    fig.tight_layout()
    fig.savefig(out_path, dpi=72)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
