"""The restaurant phone worker: `python main.py start|dev|console|download-files|check`.

`check` asks every configured provider whether its key, model and voices are right
(worker/provider_check.py) and exits; `start`, `dev` and `console` ask the same first."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import import_module

from livekit import rtc
from livekit.agents import AgentServer, AgentSession, JobContext, JobProcess, cli, inference
from livekit.agents.voice import room_io

import store
from actions.outbound_job import OutboundJob
from actions.pos import PosHandoff, connect_pos
from actions.pos_webhook import OrderWebhook
from actions.texts import Texts, connect_texts
from actions.transfer import RETURNED_ATTRIBUTE, RETURNED_STAFF_UNAVAILABLE
from agents.call import SESSION_OPTIONS, new_call, start_call, turn_away
from agents.language import default_voices, follow_caller, provider_languages
from agents.recovery import guard_call
from agents.silence import Silence, still_there
from config import ConfigError, Settings, WorkerSettings, get_settings, worker_settings
from conversation import call_snapshot, turn_taking
from conversation.state import CallServices, UserData
from domain import natural
from domain.redact import protect_logs
from models import RestaurantSettings
from store.directory import (
    load_directory_sync,
    only_restaurant,
    resolve_restaurant,
    restaurant_ids,
    unmigrated,
)
from store.live_menus import LiveMenus
from telephony import outbound_call
from telephony.redispatch import WATCHER_IDENTITY, JobGuard, announce_health, the_caller
from telephony.staff_phone import LiveKitStaffPhone
from worker import provider_check, providers, recordings, tls
from worker.admission import WorkerLoad, default_max_calls
from worker.call_options import CallOptions, levers_off

logger = logging.getLogger("restaurant.worker")
MENU_READY_TIMEOUT_S = 15.0
RECORDING_SWEEP_INTERVAL_S = 3600.0


def restaurant_settings(base: RestaurantSettings | None, settings: Settings) -> RestaurantSettings:
    """Firestore `settings/restaurant` with the RESTAURANT_* environment overrides applied."""
    data = base.model_dump() if base else {"name": "our restaurant"}
    return RestaurantSettings.model_validate({**data, **settings.restaurant_overrides()})


def prewarm(proc: JobProcess) -> None:
    """Once per worker process, before any call: VAD, turn model, the live menu."""
    settings = get_settings()
    proc.userdata["settings"] = settings
    proc.userdata["vad"] = CALL_OPTIONS.load_vad()
    # LiveKit imports its realtime-model types lazily during a call's first turn: ~0.8 s of CPU
    # on the call's own loop (the bench saw 1-2 s stalls under load). Pay it here instead.
    import_module("livekit.agents.inference.realtime")
    natural.warm_up()  # dateparser's first parse costs ~0.3 s of CPU: not on a call's loop
    tls.warm()  # built in the forkserver already (worker/preload.py); else here, not in a call
    # The sync client runs Firestore's watches on its own threads, never on the audio loop.
    # A restaurant's watch starts with its first call in this process and stops with its last.
    client = store.make_sync_client(settings)
    menus = LiveMenus(client, settings_for=lambda s: restaurant_settings(s, settings),
                      ready_timeout_s=MENU_READY_TIMEOUT_S)
    proc.userdata["menus"] = menus
    try:
        only = only_restaurant(load_directory_sync(client))
    except Exception:
        logger.exception("restaurant directory unreadable; menus load when calls arrive")
        only = None
    if only is not None:  # one restaurant: its menu is ready before the phone rings
        menus.warm(only)


def worker_limits(worker: WorkerSettings) -> dict[str, float | int]:
    """LiveKit's job-acceptance limits, overridable for load tests on small machines.

    The load the worker reports is admission.WorkerLoad: full at AGENT_MAX_CALLS running calls
    (default admission.CALLS_PER_CORE a core for its calls' turn-taking path, measured by
    bench/voice.py and bench/paths.py) or when its own
    processes use AGENT_LOAD_THRESHOLD of the machine's CPU (0-1, or "inf"; default 0.9, not
    LiveKit's 0.7: a refused SIP job is never re-offered, so the caller would ring out), never
    full without a call; neighbours' CPU does not count. AGENT_IDLE_PROCESSES: job processes
    kept warm (default one a core).
    AGENT_HTTP_PORT: the health server's port (default 8081), so two workers can share a machine.
    AGENT_INIT_TIMEOUT_S: how long a new job process may take to start (LiveKit: 10 s).
    AGENT_JOB_MEMORY_LIMIT_MB: a job process above this is killed (default 1500; 0: no limit).
    """
    limits: dict[str, float | int] = {"load_threshold": worker.agent_load_threshold,
                                      "initialize_process_timeout": worker.agent_init_timeout_s}
    if worker.agent_idle_processes is not None:
        limits["num_idle_processes"] = worker.agent_idle_processes
    limits["load_fnc"] = WorkerLoad(  # type: ignore[assignment]
        worker.agent_max_calls or default_max_calls(path=worker.restaurant_turn_taking),
        worker.agent_load_threshold)
    if worker.agent_http_port is not None:
        limits["port"] = worker.agent_http_port
    # A job process growing past this is killed by the worker: a clean restart now that the
    # call is re-dispatched and resumes from its saved state (telephony/redispatch.py).
    limits["job_memory_limit_mb"] = worker.agent_job_memory_limit_mb
    return limits


def worker_health_url(worker: WorkerSettings) -> str:
    """This worker's health endpoint as the call watcher reaches it."""
    host = worker.worker_health_host
    if host == "hostname":
        host = socket.gethostname()
    return f"http://{host}:{worker.agent_http_port or 8081}/"


try:
    WORKER = worker_settings()
    CALL_OPTIONS = CallOptions(levers_off(WORKER.audio_levers_off))
except (ConfigError, ValueError) as e:
    raise SystemExit(str(e)) from None
CALL_OPTIONS.install()  # in every process that imports this module: job processes too
turn_taking.configure(WORKER.endpointing_floor_s, WORKER.endpointing_ceiling_s,
                      WORKER.turn_detector_threshold)
server = AgentServer(
    setup_fnc=prewarm, preload_modules=CALL_OPTIONS.preload_modules(),
    **worker_limits(WORKER),  # type: ignore[arg-type]
)
# LiveKit logs room names, which hold the caller's number: mask numbers in every log line.
server.on("worker_started", protect_logs)
# A call whose job process dies (OOM kill, crash) gets a new agent that resumes it.
job_guard = JobGuard(server, WORKER.agent_name)
server.on("worker_started", job_guard.start)
_db: store.FirebaseManager | None = None
_pos: PosHandoff | OrderWebhook | None = None
_texts: Texts | None = None


async def database(settings: Settings) -> store.FirebaseManager:
    """One async Firestore client per job process, created on that process's loop."""
    global _db, _pos, _texts
    if _db is None:
        _db = await store.connect(settings)
        asyncio.get_running_loop().create_task(_db.run_outbox_replayer(interval_s=15.0))
        # Saved orders go on to Square from a local outbox (actions/pos.py), off the call.
        _pos = connect_pos(settings, _db)
        if _pos is not None:
            asyncio.get_running_loop().create_task(_pos.run(interval_s=settings.pos_retry_s))
        _texts = connect_texts(settings, _db)  # the confirmation texts callers say yes to
        if _texts is not None:
            asyncio.get_running_loop().create_task(_texts.run(interval_s=settings.pos_retry_s))
        asyncio.get_running_loop().create_task(sweep_recordings_forever(settings, _db))
        try:
            if await unmigrated(_db.client):
                logger.error("Firestore holds a restaurant at the top level (from before "
                             "restaurants); calls see an empty menu until it is moved: run "
                             "python scripts/migrate_restaurants.py (a dry run), then --apply")
        except Exception:
            logger.exception("could not check for an unmigrated database")
    return _db


def turn_detector() -> inference.TurnDetector:
    """The local audio turn detector, with config.py's threshold (None: LiveKit's)."""
    threshold = turn_taking.detector_threshold()
    if threshold is None:
        return inference.TurnDetector(version="v1-mini")
    return inference.TurnDetector(version="v1-mini", unlikely_threshold=threshold)


def build_session(settings: Settings, vad: object, userdata: UserData | None = None
                  ) -> AgentSession:
    """STT, LLM, TTS, VAD and turn detection live on the session, shared by all four agents.

    Each provider sits behind LiveKit's fallback adapter with short attempt timeouts and no
    silent retries (worker/providers.py); the optional *_FALLBACK_* variables add a second one.
    On the streaming path (the restaurant's `turn_taking: flux`) Deepgram Flux ends the turns:
    no VAD and no turn detector in the job (conversation/turn_taking.py).
    """
    path = userdata.turn_path if userdata else "local"
    # The restaurant's languages: multilingual STT, the default language's voice.
    languages = provider_languages(userdata, settings) if userdata else {}
    p = providers.build(settings, **languages, flux=path == "flux")
    detector = turn_detector() if path == "local" else None
    return AgentSession(
        stt=p.stt, llm=p.llm, tts=p.tts,
        vad=vad if path == "local" else None,  # type: ignore[arg-type]
        turn_handling=turn_taking.session_turn_handling(detector, path),
        conn_options=p.conn_options,
        **SESSION_OPTIONS,
    )


def room_options(settings: Settings) -> room_io.RoomOptions:
    if settings.noise_cancellation_enabled:
        from livekit.plugins import noise_cancellation

        return CALL_OPTIONS.room_options(noise_cancellation.BVCTelephony())
    logger.info(
        "noise cancellation off: BVC needs LiveKit Cloud and LIVEKIT_URL is %s",
        "self-hosted" if not settings.uses_livekit_cloud else "cloud with NOISE_CANCELLATION=false",
    )
    return CALL_OPTIONS.room_options()


def recording_options(record_calls: bool) -> dict[str, bool] | bool:
    """Audio only, when the restaurant opted in; never LiveKit Cloud traces or transcripts
    (the stored transcript is ours, masked). False, not LiveKit's server-side default: no
    recording without the restaurant's consent."""
    if not record_calls:
        return False
    return {"audio": True, "traces": False, "logs": False, "transcript": False}


async def sweep_recordings_forever(settings: Settings, db: store.FirebaseManager) -> None:
    while True:
        try:  # every restaurant's expired recordings, each from its own call logs and folder
            for rid in await restaurant_ids(db.client):
                await recordings.sweep(recordings.restaurant_dir(settings.recordings_dir, rid),
                                       db.for_restaurant(rid), datetime.now(UTC))
        except Exception:
            logger.exception("recording sweep failed; trying again later")
        await asyncio.sleep(RECORDING_SWEEP_INTERVAL_S)


@server.rtc_session(agent_name=WORKER.agent_name)
async def entrypoint(ctx: JobContext) -> None:
    settings: Settings = ctx.proc.userdata["settings"]
    menus: LiveMenus = ctx.proc.userdata["menus"]
    base_db = await database(settings)
    job = OutboundJob.from_metadata(ctx.job.metadata)
    if job is not None:  # the dialer's reminder or call-back: this worker dials the guest
        await _call_out(ctx, job, settings, menus, base_db)
        return
    await ctx.connect()
    announce_health(ctx.room, worker_health_url(WORKER))  # for the call watcher
    caller = await ctx.wait_for_participant()
    if caller.identity == WATCHER_IDENTITY:  # saying its hold line as this agent came
        caller = await the_caller(ctx.room)
    is_sip = caller.kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP
    # `console` mode stands in a mock participant: only a real one has SIP attributes.
    attributes = caller.attributes if isinstance(caller.attributes, dict) else {}
    dialed = attributes.get("sip.trunkPhoneNumber")
    restaurant_id = await resolve_restaurant(base_db.client, dialed)
    if restaurant_id is None:
        # No restaurant answers on this number: a fixed line and a hang-up, no LLM at all.
        session = AgentSession(tts=providers.build(settings).tts)
        await turn_away(session, dialed, room=ctx.room)
        await ctx.delete_room()
        ctx.shutdown("unknown dialled number")
        return
    db = base_db.for_restaurant(restaurant_id)
    # State a crashed agent of this call left (conversation/call_snapshot.py), in the
    # restaurant's own call_snapshots, read while its menu is made ready.
    saved = asyncio.ensure_future(call_snapshot.load_for(db, ctx.job.room.name))
    catalog = await menus.acquire(restaurant_id)
    ctx.add_shutdown_callback(_release(menus, restaurant_id))

    async def transfer(destination: str) -> None:
        if not is_sip:
            raise RuntimeError("only a phone caller can be transferred")
        await ctx.transfer_sip_participant(caller, destination)

    services = CallServices(
        db=db, catalog=catalog, clock=lambda: datetime.now(UTC), transfer=transfer, pos=_pos,
        texts=_texts,
    )
    resume = await saved
    userdata = await new_call(
        call_id=ctx.room.name,
        services=services,
        caller=attributes.get("sip.phoneNumber"),
        dialed=dialed,
        look_up_caller=resume is None,
    )
    # a cold transfer to staff that nobody took comes back as a new call, marked
    userdata.returned_from_staff = attributes.get(RETURNED_ATTRIBUTE) == RETURNED_STAFF_UNAVAILABLE
    if resume is not None:
        call_snapshot.restore(resume, userdata)  # its language too: a resumed call keeps it
    userdata.turn_path = turn_taking.path_for(userdata.settings)  # local detector, or Flux
    session = build_session(settings, ctx.proc.userdata["vad"], userdata)
    session.userdata = userdata
    if is_sip:  # warm transfer to staff through the outbound trunk (telephony/staff_phone.py)
        services.staff_phone = LiveKitStaffPhone(
            lk=ctx.api, room=ctx.room, caller_identity=caller.identity, session=session,
            url=settings.livekit_url, trunk_name=settings.sip_outbound_trunk_name,
            voices=default_voices(settings))
        services.staff_ring_s = settings.staff_ring_seconds
        ctx.add_shutdown_callback(services.staff_phone.aclose)
    follow_caller(session, userdata, default_voices(settings))  # Spanish callers in Spanish
    ctx.add_shutdown_callback(_end_of_call(ctx, session, userdata, settings, restaurant_id))
    session.on("close", lambda _: ctx.shutdown("session closed"))
    guard_call(session, userdata)  # every provider down: apology, then staff or a message
    Silence(session, userdata, question=lambda: still_there(userdata))  # asked, then let go
    await start_call(session, userdata, resume=resume, room=ctx.room,
                     room_options=_linked(room_options(settings), caller if is_sip else None),
                     record=recording_options(userdata.settings.record_calls))
    logger.info("call started", extra={"call_id": userdata.call_id, "sip": is_sip,
                                       "restaurant": restaurant_id, "job_id": ctx.job.id,
                                       "job_pid": os.getpid(), "resumed": userdata.resumed})


def _linked(options: room_io.RoomOptions, caller: rtc.RemoteParticipant | None
            ) -> room_io.RoomOptions:
    """The session listens to the caller found, never to the call watcher's voice."""
    if caller is None:  # `console` mode: its stand-in participant
        return options
    return dataclasses.replace(options, participant_identity=caller.identity)


async def _call_out(ctx: JobContext, job: OutboundJob, settings: Settings, menus: LiveMenus,
                    base_db: store.FirebaseManager) -> None:
    db = base_db.for_restaurant(job.restaurant_id)
    catalog = await menus.acquire(job.restaurant_id)
    ctx.add_shutdown_callback(_release(menus, job.restaurant_id))
    await outbound_call.run(ctx, job, settings=settings, catalog=catalog, db=db,
                            build_session=build_session, room_options=room_options(settings),
                            health_url=worker_health_url(WORKER))


def _end_of_call(ctx: JobContext, session: AgentSession, userdata: UserData, settings: Settings,
                 restaurant_id: str) -> Callable[[], Awaitable[None]]:
    async def end_of_call() -> None:
        # Runs on hang-up, end_call and worker drain alike: the log is written exactly once.
        assert userdata.recorder is not None  # start_call made it
        await userdata.recorder.finish(session.history, "job_shutdown")
        if userdata.settings.record_calls:
            # After session.aclose(), before LiveKit deletes the job's temporary folder.
            await recordings.keep_call_recording(
                ctx.session_directory / "audio.ogg",
                recordings.restaurant_dir(settings.recordings_dir, restaurant_id),
                userdata.services.db,
                call_id=userdata.call_id, started_at=userdata.recorder.started_at,
                retention_days=userdata.settings.recording_retention_days,
            )
        if userdata.ended_by_agent:
            await ctx.delete_room()  # hangs up the SIP leg: the caller hears the BYE

    return end_of_call


def _release(menus: LiveMenus, restaurant_id: str) -> Callable[[], Awaitable[None]]:
    async def release() -> None:
        menus.release(restaurant_id)

    return release


def check_providers(settings: Settings, command: str) -> None:
    """`check`: print every provider's result and exit (1 on any failure). Before the worker
    starts: report failures, and refuse to start on a wrong key, model or voice (every call
    would fail the same way; no call is taken with a voice that does not exist)."""
    report = asyncio.run(provider_check.run_check(settings))
    if command == "check":
        print("\n".join(report.lines()), flush=True)
        raise SystemExit(1 if report.failures else 0)
    for finding in report.failures:
        print(f"provider check: {finding.line()}", file=sys.stderr, flush=True)
    if report.fatal:
        raise SystemExit("Provider check failed; fix: "
                         + "; ".join(f.variable for f in report.fatal))
    print(f"provider check: {len(report.passed)} passed, {len(report.failures)} unreachable",
          file=sys.stderr, flush=True)


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    # Model files are fetched at image build time, when no keys exist yet.
    if command != "download-files":
        try:
            settings = get_settings()  # every variable checked before LiveKit starts, each named
        except ConfigError as e:
            raise SystemExit(str(e)) from None
        if command in ("check", "start", "dev", "console"):
            check_providers(settings, command)
        if command != "console":
            job_guard.livekit = settings
    cli.run_app(server)


if __name__ == "__main__":
    main()
