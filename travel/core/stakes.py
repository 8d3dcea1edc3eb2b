"""Stake (桩号) strings: ``K650+200`` is 650 km + 200 m from the road's origin."""

from __future__ import annotations

import math
import re

_STAKE = re.compile(r"^\s*K?\s*(\d{1,5})\s*(?:\+\s*(\d{1,3}(?:\.\d+)?)|\.(\d+))?\s*$", re.IGNORECASE)


def parse_stake(text: str) -> float:
    """Metres from ``K650+200``, ``K650+200.5``, ``K650.2`` or ``650``; ValueError otherwise."""
    m = _STAKE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a stake (expected e.g. K650+200 or K650.2)")
    km, plus, decimal = m.groups()
    metres = float(km) * 1000.0
    if plus is not None:
        if float(plus) >= 1000:
            raise ValueError(f"{text!r}: the metres after '+' must be below 1000")
        metres += float(plus)
    elif decimal is not None:
        metres += float(f"0.{decimal}") * 1000.0
    return metres


def format_stake(metres: float) -> str:
    """``K650+200`` for 650200 m (rounded to the metre)."""
    if not math.isfinite(metres) or metres < 0:
        raise ValueError(f"stake {metres} must be a finite, non-negative number of metres")
    whole = round(metres)
    return f"K{whole // 1000}+{whole % 1000:03d}"


def format_stake_range(start_m: float | None, end_m: float | None) -> str | None:
    """``K650+200`` or ``K650+200–K652+000``; None without a start."""
    if start_m is None:
        return None
    if end_m is None or round(end_m) == round(start_m):
        return format_stake(start_m)
    return f"{format_stake(start_m)}–{format_stake(end_m)}"
