"""TiTiler for the raster bench: titiler.core's COG endpoints, as its docs build a custom app.

Runs in bench/.venv-peers under uvicorn (see bench/servers.py: titiler). The tile URL is
`/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url=FILE&rescale=MIN,MAX&colormap_name=viridis`.
"""

from fastapi import FastAPI
from titiler.core.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from titiler.core.factory import TilerFactory

app = FastAPI(title="TiTiler (AMDIS bench)")
cog = TilerFactory(router_prefix="/cog", add_preview=False, add_part=False, add_viewer=False)
app.include_router(cog.router, prefix="/cog")
add_exception_handlers(app, DEFAULT_STATUS_CODES)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
