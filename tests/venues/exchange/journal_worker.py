"""A process that journals the bench's order stream, for the crash test to SIGKILL mid-stream.

Run as `python -m tests.venues.exchange.journal_worker JOURNAL COUNT BATCH`: it applies the first
COUNT commands of `bench.book.order_stream` through a journaled book, syncing every BATCH commands
and printing `synced N` after each sync.
"""

import sys
from pathlib import Path

from bench.book import RULES, order_stream

from equitoken.venues.exchange.journal import FsyncPolicy, JournaledBook


def main(path: str, count: str, batch: str) -> int:
    stream = order_stream(int(count))
    book = JournaledBook.open(Path(path), RULES, FsyncPolicy.PER_BATCH)
    for number, command in enumerate(stream, start=1):
        book.apply(command)
        if number % int(batch) == 0:
            book.sync()
            print(f"synced {number}", flush=True)
    book.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
