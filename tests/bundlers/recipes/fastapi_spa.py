"""A FastAPI API beside a Vite single-page app built into frontend/dist."""

from fastapi import FastAPI, HTTPException

from staticserve import StaticServe

api = FastAPI()


@api.get("/api/items")
def items() -> list[int]:
    return [1, 2, 3]


@api.get("/api/items/{item_id}")
def item(item_id: int) -> dict[str, int]:
    if item_id not in (1, 2, 3):
        raise HTTPException(status_code=404, detail="no such item")
    return {"id": item_id}


# The SPA at "/": hashed assets immutable, index.html no-cache, client-side
# routes (/about, /users/42) answered with index.html; /api/... stays FastAPI's,
# its 404s included.
app = StaticServe(api, root="frontend/dist", prefix="/", index_file=True, fallback="index.html")
