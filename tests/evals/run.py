"""Run the scenario library and write `tests/evals/results.md`: per scenario, the outcome wanted and
got, what differed, the judges' verdicts, and the LLM requests and tokens it cost; a score."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aiohttp import web
from livekit.agents import llm
from livekit.plugins import openai

from config import ConfigError, FirestoreSettings, load_firestore_settings
from domain.menu import Catalog
from fakes import openai_llm
from fakes.script import Script
from models import RestaurantSettings
from store import FirebaseManager, connect
from testkit import emulator as emu_mod
from testkit.firestore import seed_menu_file
from testkit.phone import catalog_from
from tests.evals.harness import Caller, LLMCaller, Result, ScriptedCaller, Usage, run_scenario
from tests.evals.scenario import Scenario

PROJECT = "demo-evals"
RESULTS = Path(__file__).with_name("results.md")
FAKE_MODEL = "gpt-4o-mini"


SEEDED = frozenset({"menu_items", "settings"})  # kept between scenarios; the rest is a call's


class Database:
    """The real Firestore emulator (FIRESTORE_EMULATOR_HOST if one answers), seeded once with
    the sample café; what a call writes is deleted before every scenario."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="evals-firestore-")
        try:  # an emulator already running (FIRESTORE_EMULATOR_HOST), through config.py
            existing = load_firestore_settings(env_file=None).firestore_emulator_host
        except ConfigError:
            existing = None
        if existing and emu_mod.is_ready(existing):
            self._emu = emu_mod.Emulator(host=existing, process=None)
        else:
            self._emu = emu_mod.start(log_path=Path(self._tmp.name) / "emulator.log",
                                      timeout=60)
        self._db: FirebaseManager | None = None
        self._catalog: Catalog | None = None

    def close(self) -> None:
        self._emu.stop()
        self._tmp.cleanup()

    async def _seeded(self) -> tuple[FirebaseManager, Catalog]:
        if self._db is None or self._catalog is None:
            settings = FirestoreSettings(firestore_emulator_host=self._emu.host,
                                         google_cloud_project=PROJECT,
                                         outbox_path=Path(self._tmp.name) / "outbox.jsonl")
            # the client library's bulk delete (recursive_delete, between scenarios) finds the
            # emulator only through the process environment
            os.environ["FIRESTORE_EMULATOR_HOST"] = self._emu.host
            await asyncio.to_thread(self._emu.reset, PROJECT)
            await asyncio.to_thread(seed_menu_file, settings)
            self._db = await connect(settings)
            self._catalog = await catalog_from(self._db)
        return self._db, self._catalog

    @asynccontextmanager
    async def fresh(self) -> AsyncIterator[tuple[FirebaseManager, Catalog]]:
        db, catalog = await self._seeded()
        async for written in db.db.directory_entry().collections():
            if written.id not in SEEDED:
                await db.client.recursive_delete(written)
        yield db, catalog

    async def aclose(self) -> None:
        if self._db is not None:
            await self._db.close()


@dataclass
class Models:
    """Where each role's model comes from, for one run."""

    mode: str  # "real" or "fake"
    agent_model: str
    make_agent: Callable[[], llm.LLM]
    judge: llm.LLM
    make_caller: Callable[[Scenario, Usage], Caller]
    load_script: Callable[[Scenario], None] = lambda s: None


async def fake_models() -> tuple[Models, web.AppRunner]:
    """The fake OpenAI server answers each scenario's scripted steps; the caller is scripted."""
    app = openai_llm.create_app(Script())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/v1"

    def make() -> llm.LLM:
        return openai.LLM(model=FAKE_MODEL, api_key="fake-openai-key", base_url=url,
                          parallel_tool_calls=False)

    def load(s: Scenario) -> None:
        app[openai_llm.RESPONDER_KEY].reset(s.fake_script())

    return Models("fake", FAKE_MODEL, make, make(), lambda s, u: ScriptedCaller(s),
                  load), runner


def real_models() -> Models:
    """OPENAI_MODEL for the agents (as the worker runs it), EVAL_CALLER_MODEL for the caller,
    EVAL_JUDGE_MODEL for the judges (both default to OPENAI_MODEL)."""
    from config import eval_settings

    s = eval_settings()
    key = s.openai_api_key.get_secret_value()

    def make(model: str, **kw: object) -> llm.LLM:
        return openai.LLM(model=model, api_key=key, base_url=s.openai_base_url, **kw)  # type: ignore[arg-type]

    caller_model = s.eval_caller_model or s.openai_model
    return Models(
        "real", s.openai_model, lambda: make(s.openai_model, parallel_tool_calls=False),
        make(s.eval_judge_model or s.openai_model),
        lambda sc, u: LLMCaller(make(caller_model, temperature=0.7), sc, u))


def call_time(scenario: Scenario, catalog: Catalog) -> dict[str, datetime]:
    """When the scenario's call happens, in the café's time zone (none: the harness's Friday
    noon)."""
    if not scenario.at:
        return {}
    return {"now": datetime.fromisoformat(scenario.at).replace(tzinfo=catalog.settings.tz)}


def with_hours(catalog: Catalog, scenario: Scenario) -> Catalog:
    """The café with the scenario's opening hours (validated as a restaurant file is)."""
    if not scenario.hours:
        return catalog
    settings = RestaurantSettings.model_validate(
        {**catalog.settings.model_dump(mode="json"), "hours": scenario.hours})
    return Catalog(catalog.menu, settings)


async def run_all(scenarios: list[Scenario], models: Models, db: Database,
                  on_result: Callable[[Result], None] = lambda r: None) -> list[Result]:
    results = []
    for scenario in scenarios:
        models.load_script(scenario)
        caller_usage = Usage()
        async with db.fresh() as (fresh, catalog):
            result = await run_scenario(scenario, fresh, with_hours(catalog, scenario),
                                        models.make_agent(),
                                        models.make_caller(scenario, caller_usage), models.judge,
                                        **call_time(scenario, catalog))
        result.caller = caller_usage
        on_result(result)
        results.append(result)
    return results


def _verdict(r: Result) -> str:
    if r.passed:
        return "yes"
    return f"**no** (awaits #{r.scenario.awaits})" if r.scenario.awaits else "**no**"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(results: list[Result], models: Models, seconds: float, command: str) -> str:
    passed = sum(r.passed for r in results)
    total = len(results) or 1
    awaiting = [r for r in results if r.scenario.awaits and not r.passed]
    agent_req = sum(r.agent.requests for r in results)
    agent_tok = sum(r.agent.prompt_tokens + r.agent.completion_tokens for r in results)
    writes = sum(r.snapshot_writes for r in results)
    turns = sum(r.turns for r in results) or 1
    lines = [
        "# Eval results", "",
        f"Mode: **{models.mode}** (agents on `{models.agent_model}`); {len(results)} scenarios "
        f"in {seconds:.0f} s; command: `{command}`.", "",
        f"**Score: {passed}/{len(results)} passed ({100 * passed / total:.0f}%).** "
        f"Agent LLM requests: {agent_req} ({agent_req / total:.1f} a call); agent tokens: "
        f"{agent_tok} ({agent_tok / total:.0f} a call). Snapshot writes (the call's resumable "
        f"state): {writes} ({writes / total:.1f} a call, {writes / turns:.2f} a caller turn).", "",
    ]
    if awaiting:
        lines += [f"{len(awaiting)} of the failures are scenarios whose ground truth is a fix not "
                  "yet merged (column *pass*: awaits #N): " + ", ".join(
                      f"{r.scenario.id} (#{r.scenario.awaits})" for r in awaiting) + ".", ""]
    if models.mode == "fake":
        lines += ["The fake run proves the harness, not the model: the agents' answers are each "
                  "scenario's scripted steps and the fake server reports 10 prompt + 5 "
                  "completion tokens a request (requests are exact). See README "
                  "\"Evals\" for the real run.", ""]
    lines += ["| scenario | wanted | got | pass | judges | turns | agent requests | agent "
              "tokens in/out | caller requests | caller tokens in/out | snapshot writes "
              "| what differed |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        judges = ", ".join(f"{k}: {v}" for k, v in r.judges.items()) or "-"
        differed = "; ".join(r.problems) or r.error or ""
        lines.append(
            f"| {r.scenario.id} | {r.scenario.outcome} | {r.got} | "
            f"{_verdict(r)} | {judges} | {r.turns} | {r.agent.requests} | "
            f"{r.agent.prompt_tokens}/{r.agent.completion_tokens} | {r.caller.requests} | "
            f"{r.caller.prompt_tokens}/{r.caller.completion_tokens} | {r.snapshot_writes} | "
            f"{_cell(differed)} |")
    return "\n".join(lines) + "\n"


async def main(scenarios: list[Scenario], *, fake: bool, out: Path | None, command: str,
               verbose: bool = True) -> list[Result]:
    runner = None
    if fake:
        models, runner = await fake_models()
    else:
        models = real_models()
    db = await asyncio.to_thread(Database)
    started = time.monotonic()

    def show(r: Result) -> None:
        if verbose:
            print(f"{'PASS' if r.passed else 'FAIL'}  {r.scenario.id}: wanted "
                  f"{r.scenario.outcome}, got {r.got} {'; '.join(r.problems) or r.error}",
                  flush=True)

    try:
        results = await run_all(scenarios, models, db, show)
    finally:
        await db.aclose()
        db.close()
        if runner is not None:
            await runner.cleanup()
    if out is not None:
        text = render(results, models, time.monotonic() - started, command)
        await asyncio.to_thread(out.write_text, text)
    return results
