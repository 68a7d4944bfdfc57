"""Executes one notebook headless with nbclient, in the directory it lies in, with the kernel its
metadata names, and writes the executed copy.

    python execute.py IN.ipynb OUT.ipynb [--timeout SECONDS]

Exit 0 when every cell ran; 1 on the first failing cell (its error is printed, the partly executed
notebook still written); 2 on bad usage. Prints one JSON line: kernel, seconds, per-cell seconds.
Used by test/notebooks/notebooks.test.ts (nothing is written back into notebooks/).
"""
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError


def cell_seconds(cell):
    timing = cell.get("metadata", {}).get("execution", {})
    # tslab sends no execute_input: busy -> idle is the cell's time in the kernel.
    start, end = timing.get("iopub.status.busy"), timing.get("iopub.status.idle")
    if not (start and end):
        return None
    from datetime import datetime

    def parse(s):
        return datetime.fromisoformat(s.replace("Z", "+00:00"))

    return round((parse(end) - parse(start)).total_seconds(), 3)


def main(argv):
    args = list(argv)
    timeout = 300
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = int(args[i + 1])
        del args[i : i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = args
    nb = nbformat.read(src, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=timeout,
        startup_timeout=120,
        record_timing=True,
        # After a cell's reply nbclient waits this long for its outputs on IOPub, by default 4 s
        # and then carries on silently without them. A busy machine (the CI runner, or tests
        # beside a long evaluation) can delay them that long, so wait longer and fail loudly.
        iopub_timeout=60,
        raise_on_iopub_timeout=True,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(src))}},
    )
    started = time.time()
    status = 0
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as err:
        print(str(err), file=sys.stderr)
        status = 1
    finally:
        nbformat.write(nb, dst)
    code = [c for c in nb.cells if c.cell_type == "code"]
    print(json.dumps({
        "kernel": kernel,
        "seconds": round(time.time() - started, 2),
        "cells": [cell_seconds(c) for c in code],
    }))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
