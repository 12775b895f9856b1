"""The baseline: a bare FastAPI async JSON hello world. `python bench/hello_app.py PORT` serves it."""

import sys

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


if __name__ == "__main__":
    # The settings the benchmark compares against: one worker, quiet logs, no access log.
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), workers=1, log_level="warning", access_log=False)
