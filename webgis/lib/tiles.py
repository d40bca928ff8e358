"""Web Mercator tile maths for the WebMercatorQuad tile matrix set (XYZ, origin top-left)."""

from dataclasses import dataclass

from webgis.lib.errors import BadRequest

MAX_ZOOM = 22
# Half the width of the Web Mercator square, in metres.
WEB_MERCATOR_HALF = 20037508.342789244


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int

    @classmethod
    def parse(cls, z: str, x: str, y: str) -> "Tile":
        """Validates path parts; anything outside the tile matrix is a 400, never a 500."""
        for name, value in (("z", z), ("x", x), ("y", y)):
            if not value.isascii() or not value.isdigit() or len(value) > 8:
                raise BadRequest(f"{name} must be a whole number; got {value[:20]!r}.", field=name)
        tile = cls(int(z), int(x), int(y))
        if tile.z > MAX_ZOOM:
            raise BadRequest(f"z must be from 0 to {MAX_ZOOM}; got {tile.z}.", field="z")
        size = 1 << tile.z
        if tile.x >= size or tile.y >= size:
            raise BadRequest(
                f"At zoom {tile.z}, x and y must be from 0 to {size - 1}; got x={tile.x}, y={tile.y}.",
                field="x" if tile.x >= size else "y",
            )
        return tile

    @property
    def width_m(self) -> float:
        return 2 * WEB_MERCATOR_HALF / (1 << self.z)

    def bounds_3857(self) -> tuple[float, float, float, float]:
        w = self.width_m
        minx = -WEB_MERCATOR_HALF + self.x * w
        maxy = WEB_MERCATOR_HALF - self.y * w
        return (minx, maxy - w, minx + w, maxy)
