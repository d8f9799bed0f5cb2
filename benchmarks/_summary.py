"""The one summary table that ends ``make bench``: the rows the benchmarks recorded (``_harness.record``).

Usage: python benchmarks/_summary.py RESULTS.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _cell(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "x":
        return f"{value:.2f}×"
    return f"{value:,.0f} {unit}" if abs(value) >= 100 else f"{value:,.2f} {unit}"


def main(path: str) -> int:
    file = Path(path)
    rows = [json.loads(line) for line in file.read_text().splitlines() if line.strip()] if file.exists() else []
    header = ["figure", "ours", "python-socketio", "Node socket.io", "ratio", "goal"]
    table = [header]
    for row in rows:
        figure = row["figure"] + (f" ({row['note']})" if row.get("note") else "")
        table.append(
            [
                figure,
                _cell(row["ours"], row["unit"]),
                _cell(row["psio"], row["unit"]),
                _cell(row["node"], row["unit"]),
                row.get("ratio") or "",
                row.get("goal") or "",
            ]
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    print("\n== summary (docs/performance.md)")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in table[1:]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    if not rows:
        print("(no figures recorded)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
