"""`python -m tests.evals [--fake] [--only ID ...] [--out tests/evals/results.md]` (`make eval`).

Without --fake: the real agents on OPENAI_MODEL with OPENAI_API_KEY, an LLM playing each
caller (EVAL_CALLER_MODEL) and LiveKit's judges (EVAL_JUDGE_MODEL). With --fake: the same
harness against the fake OpenAI server and each scenario's scripted caller turns (CI).
Exit code 1 when a scenario fails.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from tests.evals import scenario
from tests.evals.run import RESULTS, main


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fake", action="store_true", help="fake model, scripted callers")
    parser.add_argument("--only", nargs="*", help="scenario ids (or their prefixes)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    scenarios = scenario.load(only=args.only)
    command = "python -m tests.evals " + " ".join(sys.argv[1:])
    results = asyncio.run(main(scenarios, fake=args.fake, out=args.out, command=command.strip()))
    passed = sum(r.passed for r in results)
    print(f"{passed}/{len(results)} scenarios passed; results in {args.out}")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    cli()
