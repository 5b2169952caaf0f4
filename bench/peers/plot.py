"""The peer benchmark's plots (matplotlib, Agg backend), written next to the JSON.

matplotlib is imported through `importlib` so that this module type-checks
the same whether or not the `[bench]` extra is installed.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.peers.__main__ import Report

__all__ = ["write_plots"]

COLORS: Mapping[str, str] = {"stepfold": "#1b7837", "burr": "#c51b7d", "langgraph": "#2166ac"}
MARKERS: Mapping[str, str] = {"stepfold": "o", "burr": "s", "langgraph": "^"}
MIB = 2**20


def _pyplot() -> Any:
    matplotlib: Any = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def _size_label(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 else str(size)


def _ms(milliseconds: float) -> str:
    if milliseconds >= 10:
        return f"{milliseconds:,.0f} ms"
    return f"{milliseconds:.2g} ms" if milliseconds >= 0.1 else f"{milliseconds * 1000:.2g} µs"


def _per_size_axes(ax: Any, order: list[int], ylabel: str, title: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(order, [_size_label(s) for s in order])
    ax.set_xlabel("records in the state (S)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)


def _time_plot(plt: Any, path: Path, report: Report) -> None:
    order = sorted(report.sizes)
    sizes = [report.sizes[s] for s in order]
    fig, ax = plt.subplots(figsize=(7.5, 5), dpi=120)
    for name in report.names:
        color, marker = COLORS[name], MARKERS[name]
        medians = [r.time[name].median / 1e6 for r in sizes]
        low = [m - r.time[name].min / 1e6 for m, r in zip(medians, sizes)]
        high = [r.time[name].max / 1e6 - m for m, r in zip(medians, sizes)]
        ax.errorbar(
            order,
            medians,
            yerr=[low, high],
            label=f"{report.labels[name]}, GC off",
            color=color,
            marker=marker,
            capsize=3,
            linewidth=2,
        )
        with_gc = [r.time_gc[name].median / 1e6 for r in sizes]
        ax.plot(
            order,
            with_gc,
            label=f"{report.labels[name]}, GC on",
            color=color,
            marker=marker,
            markerfacecolor="none",
            linestyle="--",
            linewidth=1,
            alpha=0.8,
        )
        for s, m in zip(order, medians):
            ax.annotate(_ms(m), (s, m), textcoords="offset points", xytext=(6, -4), fontsize=7, color=color)
    first_run = [(r.ingest.median + r.time["stepfold"].median) / 1e6 for r in sizes]
    ax.plot(
        order,
        first_run,
        label="stepfold, first run from plain records (State built + run)",
        color=COLORS["stepfold"],
        linestyle=":",
        linewidth=1.5,
    )
    _per_size_axes(
        ax,
        order,
        "time per run, ms (median; bars: min-max, GC off)",
        "One 4-step run with every intermediate state kept",
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _memory_plot(plt: Any, path: Path, report: Report) -> None:
    order = sorted(report.sizes)
    sizes = [report.sizes[s] for s in order]
    fig, ax = plt.subplots(figsize=(7.5, 5), dpi=120)
    for name in report.names:
        peaks = [max(r.peak[name].median, 1.0) / MIB for r in sizes]
        held = [max(r.retained[name].median, 1.0) / MIB for r in sizes]
        ax.plot(
            order,
            peaks,
            label=f"{report.labels[name]}: peak during the run",
            color=COLORS[name],
            marker=MARKERS[name],
            linewidth=2,
        )
        ax.plot(
            order,
            held,
            label=f"{report.labels[name]}: history held after it",
            color=COLORS[name],
            marker=MARKERS[name],
            linestyle="--",
            alpha=0.6,
        )
    _per_size_axes(
        ax,
        order,
        "MiB above the baseline (tracemalloc)",
        "Memory of one 4-step run (the starting state is not counted)",
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _long_plot(plt: Any, path: Path, report: Report, steps: int, records: int) -> None:
    names = report.names
    fig, ax = plt.subplots(figsize=(7.5, 5), dpi=120)
    per_step = [report.long[name].per_step / 1024 for name in names]
    bars = ax.bar(
        [report.labels[name] for name in names],
        per_step,
        color=[COLORS[name] for name in names],
        hatch=["//" if report.long[name].extrapolated else "" for name in names],
        edgecolor="white",
    )
    for bar, name in zip(bars, names):
        result = report.long[name]
        own = report.own_state_bytes(name)
        note = f"scaled from {result.steps} steps" if result.extrapolated else f"measured at {steps:,} steps"
        ax.annotate(
            f"{result.per_step / 1024:,.1f} KiB/step\n{steps:,} steps: {result.at_long_steps / MIB:,.0f} MiB\n"
            f"= {result.at_long_steps / own:.2f}x its own state\n({note})",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            textcoords="offset points",
            xytext=(0, 4),
            ha="center",
            fontsize=8,
        )
    goal = 2 * report.state_bytes["stepfold_state"] / 1024 / steps
    ax.axhline(goal, color="black", linestyle=":", linewidth=1)
    ax.annotate(
        f"goal: {steps:,}-step lineage < 2x the State itself",
        (0.02, goal),
        xycoords=("axes fraction", "data"),
        textcoords="offset points",
        xytext=(0, 4),
        fontsize=8,
    )
    ax.set_yscale("log")
    ax.set_ylim(min(per_step) / 3, max(max(per_step), goal) * 12)
    ax.set_ylabel("retained KiB per step (log scale)")
    ax.set_title(f"Long run: history of {steps:,} steps over {records // 1000}k records")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _daily_plot(plt: Any, path: Path, report: Report) -> None:
    names = report.names
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=120)
    rates = [1e9 / report.daily[name].median for name in names]
    bars = ax.bar([report.labels[name] for name in names], rates, color=[COLORS[name] for name in names])
    for bar, rate in zip(bars, rates):
        ax.annotate(
            f"{rate:,.0f}/s",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            textcoords="offset points",
            xytext=(0, 3),
            ha="center",
            fontsize=9,
        )
    ax.set_ylabel("daily_loop runs per second (median)")
    ax.set_ylim(0, max(rates) * 1.15)
    ax.set_title("Small state: the 4-step daily loop, history kept (collector on)")
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_plots(report: Report, directory: Path, prefix: str, *, long_steps: int, long_records: int) -> list[str]:
    """Write the four PNGs; return their paths relative to the repository root."""
    plt = _pyplot()
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "time": directory / f"{prefix}-time.png",
        "memory": directory / f"{prefix}-memory.png",
        "long": directory / f"{prefix}-long-run.png",
        "daily": directory / f"{prefix}-daily.png",
    }
    _time_plot(plt, paths["time"], report)
    _memory_plot(plt, paths["memory"], report)
    _long_plot(plt, paths["long"], report, long_steps, long_records)
    _daily_plot(plt, paths["daily"], report)
    root = directory.parent.parent
    return [str(path.relative_to(root)) for path in paths.values()]
