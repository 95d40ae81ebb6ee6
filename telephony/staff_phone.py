"""The warm transfer's phone line, with LiveKit (actions/transfer.py says what happens when).

Why not LiveKit's beta WarmTransferTask: it joins staff and caller with MoveParticipant, which
the self-hosted LiveKit server (v1.13.5) answers "not implemented"; it has an LLM improvise
the briefing from the raw transcript (phone numbers and all), where ours is computed and
masked (actions.staff.staff_briefing); and it connects only once staff *ask* for it (their
speech through STT and an LLM tool call, with no timeout), where staff here hear the briefing
and are connected.

How, self-hosted:
- ring: the worker joins a consultation room `staff-<call room>` with its own connection and
  dials staff into it through the outbound trunk (LiveKit SIP -> FreeSWITCH `agent_outbound`
  -> 1002), waiting for the answer at most `timeout_s`; the caller meanwhile hears LiveKit's
  hold music and the agent neither listens nor speaks.
- say: the briefing is synthesised with the call's TTS into a track only the consultation
  room has: the caller never hears it.
- connect: the worker relays audio both ways between the two rooms (caller -> staff in the
  consultation room, staff -> caller on a second track in the call's room). The worker stays
  in the media path until either side hangs up, which hangs up the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterator

from livekit import api, rtc
from livekit.agents import AgentSession, tts
from livekit.agents.voice.background_audio import (
    AudioConfig,
    BackgroundAudioPlayer,
    BuiltinAudioClip,
    PlayHandle,
)

from actions.transfer import StaffUnavailable
from agents.language import retune
from telephony.redispatch import BRIEFING_IDENTITY, STAFF_ROOM_PREFIX
from telephony.sip_outbound import NoOutboundTrunk, outbound_trunk_id

logger = logging.getLogger("restaurant.staff_phone")
STAFF_IDENTITY = "staff"
SUBSCRIBE_WAIT_S = 3.0  # staff's phone subscribing to the briefing track after the answer

# SIP answers FreeSWITCH relays for a staff call that did not happen, and what they mean
_WHY = {
    404: "the staff phone is not connected",  # FreeSWITCH: USER_NOT_REGISTERED
    480: "the staff phone is not connected",
    486: "staff are busy on another call",
    600: "staff are busy on another call",
    603: "staff declined the call",
    408: "nobody answered",
    487: "nobody answered",
}


def why_not(error: Exception) -> str:
    """The SIP status inside LiveKit's CreateSIPParticipant error, in words for the agent."""
    text = str(error)
    metadata = getattr(error, "metadata", None) or {}
    text += " " + " ".join(f"{k}={v}" for k, v in dict(metadata).items())
    for m in re.finditer(r"\b([4-6]\d\d)\b", text):
        if int(m.group(1)) in _WHY:
            return _WHY[int(m.group(1))]
    if "timeout" in text.lower() or "deadline" in text.lower():
        return "nobody answered"
    return "the staff line did not connect"


async def _pump(stream: rtc.AudioStream, source: rtc.AudioSource) -> None:
    async for event in stream:
        await source.capture_frame(event.frame)


class LiveKitStaffLine:
    def __init__(self, phone: LiveKitStaffPhone, room: rtc.Room, source: rtc.AudioSource,
                 publication: rtc.LocalTrackPublication) -> None:
        self.phone = phone
        self.room = room  # the consultation room
        self.source = source
        self.publication = publication
        self._tasks: list[asyncio.Task[None]] = []
        self._ending: asyncio.Task[None] | None = None
        self._closed = False

    async def _staff_listening(self) -> None:
        """Staff's SIP leg subscribes to our track a moment after it joins: speak after."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.publication.wait_for_subscription(), SUBSCRIBE_WAIT_S)

    async def say(self, text: str, language: str = "en") -> None:
        await self._staff_listening()
        with self.phone.speaking(language):
            async with self.phone.tts.synthesize(text) as stream:
                async for audio in stream:
                    await self.source.capture_frame(audio.frame)
        await self.source.wait_for_playout()

    async def _staff_track(self, wait_s: float = 5.0) -> rtc.RemoteAudioTrack:
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            staff = self.room.remote_participants.get(STAFF_IDENTITY)
            if staff is not None:
                for pub in staff.track_publications.values():
                    if isinstance(pub.track, rtc.RemoteAudioTrack):
                        return pub.track
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError("staff's audio never arrived")
            await asyncio.sleep(0.05)

    async def connect(self) -> None:
        phone = self.phone
        caller_track = phone.caller_track()
        staff_track = await self._staff_track()
        rate = phone.tts.sample_rate
        to_caller = rtc.AudioSource(rate, 1)
        staff_out = rtc.LocalAudioTrack.create_audio_track("staff", to_caller)
        await phone.room.local_participant.publish_track(
            staff_out, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
        self._tasks = [
            asyncio.create_task(_pump(rtc.AudioStream(caller_track, sample_rate=rate,
                                                      num_channels=1), self.source)),
            asyncio.create_task(_pump(rtc.AudioStream(staff_track, sample_rate=rate,
                                                      num_channels=1), to_caller)),
        ]
        await phone.stop_hold_audio()
        self.room.on("participant_disconnected", self._on_staff_left)
        phone.room.on("participant_disconnected", self._on_caller_left)
        logger.info("caller and staff connected", extra={"call_id": phone.room.name})

    def _on_staff_left(self, participant: rtc.RemoteParticipant) -> None:
        if participant.identity == STAFF_IDENTITY:
            logger.info("staff hung up: ending the call", extra={"call_id": self.phone.room.name})
            self._ending = asyncio.create_task(self.phone.end_call())

    def _on_caller_left(self, participant: rtc.RemoteParticipant) -> None:
        if participant.identity == self.phone.caller_identity:
            self._ending = asyncio.create_task(self.hang_up())

    async def hang_up(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await self.phone.api.room.delete_room(api.DeleteRoomRequest(room=self.room.name))
        with contextlib.suppress(Exception):
            await self.room.disconnect()


class LiveKitStaffPhone:
    """actions.transfer.StaffPhone for one call (built by main.py for SIP callers)."""

    def __init__(self, *, lk: api.LiveKitAPI, room: rtc.Room, caller_identity: str,
                 session: AgentSession, url: str, trunk_name: str,
                 voices: dict[str, str] | None = None) -> None:
        self.api = lk
        self.voices = voices or {}  # the deployment's voice per language (staff briefing)
        self.room = room  # the call's room
        self.caller_identity = caller_identity
        self.session = session
        self.url = url
        self.trunk_name = trunk_name
        self.line: LiveKitStaffLine | None = None
        self._background: BackgroundAudioPlayer | None = None
        self._hold: PlayHandle | None = None

    @property
    def tts(self) -> tts.TTS:
        assert self.session.tts is not None, "the session has no TTS"
        return self.session.tts

    @contextlib.contextmanager
    def speaking(self, language: str) -> Iterator[None]:
        """The TTS in `language`'s voice for the staff briefing (the caller, on hold, hears
        no TTS meanwhile), back in the caller's language after."""
        userdata = self.session.userdata
        if language == userdata.language:
            yield
            return
        apply = retune(self.session, userdata, self.voices)
        apply(language)
        try:
            yield
        finally:
            apply(userdata.language)

    def caller_track(self) -> rtc.RemoteAudioTrack:
        caller = self.room.remote_participants.get(self.caller_identity)
        if caller is not None:
            for pub in caller.track_publications.values():
                if isinstance(pub.track, rtc.RemoteAudioTrack):
                    return pub.track
        raise RuntimeError("the caller's audio is gone")

    async def hold(self, on: bool) -> None:
        self.session.input.set_audio_enabled(not on)
        self.session.output.set_audio_enabled(not on)
        if on:
            if self._background is None:
                self._background = BackgroundAudioPlayer()
                await self._background.start(room=self.room)
            self._hold = self._background.play(
                AudioConfig(BuiltinAudioClip.HOLD_MUSIC, volume=0.8), loop=True)
        else:
            await self.stop_hold_audio()

    async def stop_hold_audio(self) -> None:
        if self._hold is not None:
            self._hold.stop()
            self._hold = None

    async def ring(self, number: str, timeout_s: float) -> LiveKitStaffLine:
        # not "call-…": the call watcher (services/call_watch.py) treats those rooms as calls to
        # rescue
        consult = f"{STAFF_ROOM_PREFIX}{self.room.name}"
        try:
            trunk = await outbound_trunk_id(self.api, self.trunk_name)
        except NoOutboundTrunk as e:
            logger.error("%s", e)
            raise StaffUnavailable("the phone system cannot call staff") from e
        token = (api.AccessToken().with_identity(BRIEFING_IDENTITY).with_kind("agent")
                 .with_grants(api.VideoGrants(room_join=True, room=consult, can_publish=True,
                                              can_subscribe=True)).to_jwt())
        room = rtc.Room()
        await room.connect(self.url, token)
        source = rtc.AudioSource(self.tts.sample_rate, 1)
        track = rtc.LocalAudioTrack.create_audio_track("briefing", source)
        publication = await room.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
        line = LiveKitStaffLine(self, room, source, publication)
        logger.info("ringing staff at %s", number, extra={"call_id": self.room.name})
        request = api.CreateSIPParticipantRequest(
            sip_trunk_id=trunk, sip_call_to=number, room_name=consult,
            participant_identity=STAFF_IDENTITY, participant_name="Staff",
            wait_until_answered=True)
        request.ringing_timeout.FromMilliseconds(int(timeout_s * 1000))
        try:
            await asyncio.wait_for(self.api.sip.create_sip_participant(request), timeout_s + 10)
        except (api.TwirpError, TimeoutError) as e:
            await line.hang_up()
            why = why_not(e) if isinstance(e, api.TwirpError) else "nobody answered"
            logger.info("staff call to %s failed: %s (%s)", number, why, e,
                        extra={"call_id": self.room.name})
            raise StaffUnavailable(why) from e
        except BaseException:
            await line.hang_up()
            raise
        logger.info("staff answered", extra={"call_id": self.room.name})
        self.line = line
        return line

    async def end_call(self) -> None:
        """Staff hung up after the connection: the caller's call ends too."""
        with contextlib.suppress(Exception):
            await self.api.room.delete_room(api.DeleteRoomRequest(room=self.room.name))

    async def aclose(self) -> None:
        """Job shutdown: staff's leg goes with the call."""
        if self.line is not None:
            await self.line.hang_up()
        await self.stop_hold_audio()
        if self._background is not None:
            with contextlib.suppress(Exception):
                await self._background.aclose()
