"""Colour maps for raster layers: an allow-list of names, each a list of evenly spaced stops.

The sequential maps are matplotlib's perceptually uniform ones (viridis, magma, inferno, plasma,
cividis) sampled at eleven points; the others are ColorBrewer schemes. A `_r` suffix reverses any
of them. Stops are interpolated linearly into a 256-entry lookup table.
"""

from functools import lru_cache

import numpy as np

COLORMAPS: dict[str, tuple[str, ...]] = {
    "viridis": (
        "#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c",
        "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725",
    ),
    "magma": (
        "#000004", "#140e36", "#3b0f70", "#641a80", "#8c2981", "#b73779",
        "#de4968", "#f7705c", "#fe9f6d", "#fecf92", "#fcfdbf",
    ),
    "inferno": (
        "#000004", "#160b39", "#420a68", "#6a176e", "#932667", "#bc3754",
        "#dd513a", "#f37819", "#fca50a", "#f6d746", "#fcffa4",
    ),
    "plasma": (
        "#0d0887", "#41049d", "#6a00a8", "#8f0da4", "#b12a90", "#cc4778",
        "#e16462", "#f2844b", "#fca636", "#fcce25", "#f0f921",
    ),
    "cividis": (
        "#00224e", "#123570", "#3b496c", "#575d6d", "#707173", "#8a8779",
        "#a69d75", "#c4b56c", "#e4cf5b", "#fee838",
    ),
    "greys": ("#ffffff", "#f0f0f0", "#d9d9d9", "#bdbdbd", "#969696", "#737373", "#525252", "#252525", "#000000"),
    "ylorrd": ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"),
    "rdylbu": (
        "#a50026", "#d73027", "#f46d43", "#fdae61", "#fee090", "#ffffbf",
        "#e0f3f8", "#abd9e9", "#74add1", "#4575b4", "#313695",
    ),
    "spectral": (
        "#9e0142", "#d53e4f", "#f46d43", "#fdae61", "#fee08b", "#ffffbf",
        "#e6f598", "#abdda4", "#66c2a5", "#3288bd", "#5e4fa2",
    ),
    "rdbu": (
        "#67001f", "#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7",
        "#d1e5f0", "#92c5de", "#4393c3", "#2166ac", "#053061",
    ),
}  # fmt: skip

REVERSED_SUFFIX = "_r"


def colormap_names() -> list[str]:
    """Every accepted name, reversed variants included."""
    return sorted([*COLORMAPS, *(name + REVERSED_SUFFIX for name in COLORMAPS)])


def colormap_stops(name: str) -> tuple[str, ...]:
    """The stops of an accepted name (KeyError otherwise)."""
    if name.endswith(REVERSED_SUFFIX) and name[: -len(REVERSED_SUFFIX)] in COLORMAPS:
        return tuple(reversed(COLORMAPS[name[: -len(REVERSED_SUFFIX)]]))
    return COLORMAPS[name]


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


@lru_cache(maxsize=64)
def colormap_lut(name: str) -> np.ndarray:
    """A read-only (256, 4) uint8 RGBA table for an accepted name."""
    stops = np.array([_rgb(c) for c in colormap_stops(name)], dtype="float64")
    positions = np.linspace(0, 1, len(stops))
    at = np.linspace(0, 1, 256)
    lut = np.empty((256, 4), dtype="uint8")
    for channel in range(3):
        lut[:, channel] = np.round(np.interp(at, positions, stops[:, channel]))
    lut[:, 3] = 255
    lut.setflags(write=False)
    return lut
