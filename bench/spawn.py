"""Run one command and report its wall time and its own peak memory.

    python -m bench.spawn RESULT_FILE COMMAND [ARGS...]

Benchmarks that time a whole process use it as a launcher: it forks, execs the command
(stdin, stdout and stderr inherited), waits for it, and writes `{"seconds", "peak_kb",
"exit"}` as JSON to RESULT_FILE. The time runs from the fork to the end of the wait, so the
launcher's own start-up is not counted. The peak is the command's `ru_maxrss`: a child's
maximum carries the memory of the process it was forked from, which here is this small
launcher, not the benchmark worker that holds a database driver and a desk's statistics.
Imports nothing but the standard library, to stay small.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write("usage: python -m bench.spawn RESULT_FILE COMMAND [ARGS...]\n")
        return 2
    result_file, command = argv[0], argv[1:]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: become the command
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    exit_code = os.waitstatus_to_exitcode(status)
    with open(result_file, "w", encoding="utf-8") as out:
        json.dump({"seconds": seconds, "peak_kb": usage.ru_maxrss, "exit": exit_code}, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
