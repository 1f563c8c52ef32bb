"""`python -m chaos` (`make chaos`): sized by CHAOS_MESSAGES (default 100000) and seeded by CHAOS_SEED (default 1).

CHAOS_BROKERS picks the Kafka side: 3 (the default) the local three-node cluster, 1 the single broker.

Prints the checker's summary block; exits 0 only if nothing was lost, doubled
or reordered and the audit chain verifies. CHAOS_KEEP=1 keeps the work folder
(logs of every instance, the broker and PostgreSQL) for a look afterwards; CHAOS_FAULTS names the
kinds to inject, each with a count if wanted (`service-kill:5,sigstop`; `none` for the workload alone;
default every kind, scaled to the size).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from chaos.faults import counts_from_setting
from chaos.run import run


def main() -> int:
    """Run once and print the summary."""
    logging.basicConfig(level=logging.WARNING, format="chaos %(asctime)s %(name)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # every fault makes it complain; the checker judges
    messages = int(os.environ.get("CHAOS_MESSAGES", "100000"))
    seed = int(os.environ.get("CHAOS_SEED", "1"))
    brokers = int(os.environ.get("CHAOS_BROKERS", "3"))
    work = Path(tempfile.mkdtemp(prefix="silta-chaos-"))
    print(f"chaos: {messages} messages, seed {seed}, {brokers} broker(s), work folder {work}", flush=True)
    try:
        counts = counts_from_setting(os.environ.get("CHAOS_FAULTS", ""), messages)
        summary = asyncio.run(run(work, messages, seed, counts=counts, brokers=brokers))
    finally:
        if os.environ.get("CHAOS_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
    print("\n".join(summary.lines()), flush=True)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
