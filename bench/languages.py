"""What serving a caller in Spanish costs: LLM requests and prompt tokens of the standard order
call (bench/calls.py) against the same order said in Spanish.

Both calls run exactly as benchmark 7 (bench/tokens.py) runs its calls: the real OpenAI plugin
against the fake OpenAI server, every request body kept and counted with the o200k_base
tokenizer. The Spanish call's restaurant offers Spanish and the STT reports each caller turn as
Spanish, so the call switches on the first turn: the language note joins every agent's
instructions, the read-back and confirmation are the Spanish lines.

    .venv/bin/python -m bench.languages            # prints the table, writes
                                                   # bench/languages_results.{json,md}
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bench.calls import ScriptedCall, Turn, order_call
from bench.emulator import Firestore
from bench.tokens import Counter, _one_call
from testkit.scripted_llm import Call

HERE = Path(__file__).resolve().parent


def spanish_order_call() -> ScriptedCall:
    """The standard order call, said in Spanish: same items, same tools, same arguments (the
    menu's names), the model's own lines in Spanish."""
    return ScriptedCall("order_es", (
        Turn("Hola, quiero un cappuccino grande con leche de avena y un BLT en pan de centeno, "
             "por favor", "order: route + 2 items", "classifier->order"),
        Turn("A nombre de Sam Rivera", "order: name + review", "order->confirmation"),
        Turn("Sí, está bien", "confirm: save order"),
        Turn("No, eso es todo, adiós", "end call"),
    ), (
        Call("start_order"),
        Call("add_item", {"item": "a large cap", "options": ["oat milk"]}),
        Call("add_item", {"item": "blt", "options": ["rye"]}),
        "Un Cappuccino grande con Oat milk y un BLT con Rye. ¿A nombre de quién pongo el pedido?",
        Call("set_customer", {"name": "Sam Rivera"}),
        Call("review_order"),
        Call("confirm"),
        "Su pedido está hecho. ¿Algo más?",
        Call("end_call"),
    ))


async def measure(fs: Firestore) -> dict[str, Any]:
    counter = Counter()
    english = await _one_call(fs, order_call(), counter)
    spanish = await _one_call(fs, spanish_order_call(), counter, language="es")
    keys = ("llm_requests", "prompt", "completion", "largest_request", "tool_schema_tokens",
            "tts_characters")
    return {
        "token_counting": counter.method,
        "order_call_en": {k: english[k] for k in keys},
        "order_call_es": {k: spanish[k] for k in keys},
        "prompt_tokens_es_over_en": round(spanish["prompt"] / english["prompt"], 3),
    }


def markdown(r: dict[str, Any]) -> str:
    en, es = r["order_call_en"], r["order_call_es"]
    rows = [("LLM requests", "llm_requests"), ("prompt tokens (all requests)", "prompt"),
            ("completion tokens", "completion"), ("largest request (prompt tokens)",
                                                  "largest_request"),
            ("of which tool schemas (all requests)", "tool_schema_tokens"),
            ("characters sent to TTS", "tts_characters")]
    out = ["| standard order call | English | Spanish | Spanish − English |", "|---|---|---|---|"]
    for label, key in rows:
        out.append(f"| {label} | {en[key]} | {es[key]} | {es[key] - en[key]:+d} |")
    out.append("")
    out.append(f"Prompt tokens, Spanish / English: {r['prompt_tokens_es_over_en']}. "
               f"Counted with {r['token_counting']}.")
    return "\n".join(out) + "\n"


async def _main() -> int:
    with Firestore() as fs:
        results = await measure(fs)
    (HERE / "languages_results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (HERE / "languages_results.md").write_text(table)
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
