"""`python -m fakes --script conversation.yaml [--ready-file f.json]`: serve the fake providers."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from .latency import DEFAULT_END_SILENCE_S, REALISTIC, Latency
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
    parser.add_argument("--realistic", action="store_true",
                        help="provider latencies of real services: final transcript "
                             f"{REALISTIC['stt_final_s'] * 1000:.0f} ms after the end of "
                             f"speech, LLM first token {REALISTIC['llm_first_token_s'] * 1000:.0f}"
                             f" ms, TTS first audio {REALISTIC['tts_first_audio_s'] * 1000:.0f} ms"
                             " (each overridable below; default: 0 ms)")
    parser.add_argument("--stt-final-ms", type=float)
    parser.add_argument("--llm-first-token-ms", type=float)
    parser.add_argument("--tts-first-audio-ms", type=float)
    parser.add_argument("--stt-end-silence-ms", type=float, default=DEFAULT_END_SILENCE_S * 1000,
                        help="quiet that ends a caller's utterance (default %(default).0f)")
    args = parser.parse_args()
    base = dict(REALISTIC) if args.realistic else {}
    for name in ("stt_final", "llm_first_token", "tts_first_audio"):
        ms = getattr(args, f"{name}_ms")
        if ms is not None:
            base[f"{name}_s"] = ms / 1000
    try:
        latency = Latency(**base, stt_end_silence_s=args.stt_end_silence_ms / 1000)
    except ValueError as e:
        parser.error(str(e))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    script = Script.load(args.script) if args.script else Script()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(script, host=args.host, llm_port=args.llm_port, stt_port=args.stt_port,
                    tts_port=args.tts_port, tts_voice=args.tts_voice,
                    ready_file=args.ready_file, stop=stop, latency=latency)

    asyncio.run(run())


if __name__ == "__main__":
    main()
