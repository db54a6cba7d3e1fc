"""Short printed summaries of result objects: arrays as shape and range, never every element."""

from __future__ import annotations

import dataclasses

import numpy as np


def describe(value) -> str:
    """One short line for a value: an array as its shape and mean/min/max, a dict by its keys,
    a short scalar as itself."""
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return f"array{value.shape}"
        if value.dtype.kind in "fiu":
            finite = value[np.isfinite(value)] if value.dtype.kind == "f" else value
            if finite.size == 0:
                return f"array{value.shape} (no finite values)"
            text = (f"array{value.shape} mean {finite.mean():.4g}, min {finite.min():.4g}, "
                    f"max {finite.max():.4g}")
            if finite.size < value.size:
                text += f", {value.size - finite.size} non-finite"
            return text
        return f"array{value.shape} of {value.dtype}"
    if hasattr(value, "sizes") and hasattr(value, "data_vars"):  # an xarray Dataset
        dims = ", ".join(f"{k}={v}" for k, v in value.sizes.items())
        return f"Dataset({dims}) with {', '.join(map(str, value.data_vars))}"
    if isinstance(value, dict):
        keys = ", ".join(map(str, list(value)[:8]))
        return "{" + keys + (", ..." if len(value) > 8 else "") + "}"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = " ".join(repr(value).split())
    return text if len(text) <= 80 else text[:77] + "..."


def summary(obj, fields=None, title=None) -> str:
    """Multi-line summary of a dataclass (or of ``fields`` of any object)."""
    if fields is None:
        fields = [f.name for f in dataclasses.fields(obj)]
    lines = [title or type(obj).__name__]
    width = max((len(f) for f in fields), default=0)
    for name in fields:
        lines.append(f"  {name:<{width}s} : {describe(getattr(obj, name))}")
    return "\n".join(lines)


class SummaryRepr:
    """Mixin: ``repr`` and ``print`` give :func:`summary` (declare the dataclass with
    ``repr=False`` so that this one is used)."""

    def __repr__(self) -> str:
        return summary(self)
