"""Money in integer fen (分): exact Decimal arithmetic, rounding half up, as toll systems do."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ONE = Decimal(1)
FEN_PER_YUAN = 100


def half_up(value: Decimal) -> int:
    """``value`` rounded half up to a whole number (of fen)."""
    return int(value.quantize(ONE, rounding=ROUND_HALF_UP))


def to_whole_yuan(fen: int) -> int:
    """``fen`` rounded half up to whole yuan, still in fen (the non-ETC/CPC rule)."""
    return half_up(Decimal(fen) / FEN_PER_YUAN) * FEN_PER_YUAN


def yuan(fen: int) -> float:
    """Fen as yuan for display (two decimals, exact for any realistic amount)."""
    return round(fen / FEN_PER_YUAN, 2)
