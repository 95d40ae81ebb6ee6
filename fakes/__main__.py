"""`python -m fakes --script conversation.yaml [--ready-file f.json]`: serve the fake providers."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from .script import Script
from .server import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--script", type=Path, help="conversation script (YAML)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--llm-port", type=int, default=0)
    parser.add_argument("--stt-port", type=int, default=0)
    parser.add_argument("--tts-port", type=int, default=0)
    parser.add_argument("--tts-voice", choices=["tone", "espeak"], default="tone")
    parser.add_argument("--ready-file", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    script = Script.load(args.script) if args.script else Script()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(script, host=args.host, llm_port=args.llm_port, stt_port=args.stt_port,
                    tts_port=args.tts_port, tts_voice=args.tts_voice,
                    ready_file=args.ready_file, stop=stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()
