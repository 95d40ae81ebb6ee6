"""Every fixed line a caller hears, in every language the line speaks.

Fixed lines cost no LLM request: the greeting, the read-backs, the goodbye, the hold line, the
apologies and hand-over lines of a failing call, the refusal of an unknown number. Each
language has every line (checked at import, so a missing translation fails the first test,
not a caller). `{name}`-style fields are filled by the caller of `say`.

A restaurant's own lines (its recording notice, what it says about large parties) come from
its file, in every language it offers: `RestaurantSettings` refuses a file that enables a
language without them, naming the missing line.
"""

from __future__ import annotations

from typing import Any

from models import LANGUAGES, RESTAURANT_LINES, RestaurantSettings

HOUSE_LINES: dict[str, dict[str, str]] = {
    # A deliberate same-shape pair (`duplicates`) with "es" below: each language's table says
    # the same lines under the same keys (tests/test_spanish_lines.py checks none is missing).
    "en": {
        "greeting": "Thanks for calling {name}! Would you like to place an order or book a table?",
        "greeting_returning": (
            "Hi {first}, welcome back to {name}! Would you like to order or book a table?"),
        "goodbye": "Thank you for calling {name}. Goodbye!",
        "goodbye_outbound": "Thank you for your time. Goodbye from {name}!",
        "returned_from_staff": (
            "Sorry, nobody from the team could come to the phone just now. I can take a "
            "message and have them call you back: what's your name?"),
        "connecting": "Of course, I'll connect you with a member of our team now.",
        "hold": "One moment. ",
        "say_again": (
            "I'm sorry, I'm having a little trouble on my end. Could you say that again? "
            "If you'd rather speak to a person, just say so."),
        "transferring": (
            "I'm sorry, our system isn't working properly right now. "
            "I'll connect you with a member of our team."),
        "take_message": (
            "I'm sorry, our system isn't working properly right now and no one can come to "
            "the phone. Please tell me your name, your phone number and what you need, and "
            "staff will call you back."),
        "message_taken": (
            "Thank you, I've passed that on to our staff and they will call you back. Goodbye."),
        "cannot_hear": (
            "I'm sorry, I'm having trouble hearing you and no one can come to the phone right "
            "now. Please call us back in a few minutes. Goodbye."),
        "order_readback": (
            "Let me read that back: {items}. That's {total} with tax, paid at pickup, ready at "
            "about {pickup}, under the name {customer}, phone {phone}. Shall I place the order?"),
        "no_number": "no number",
        "booking_new": "Let me confirm: {table}, phone {phone}. Shall I book it?",
        "booking_change": "Let me confirm the change to booking {code}: {table}. Shall I?",
        "booking_cancel": "Just to confirm: cancel booking {code}, {table}? ",
        "table": "a table for {party} {when}, under {customer}",
        "order_placed": (
            "Order placed: number {number}, total {total} paid at pickup, ready at about "
            "{pickup}."),
        "order_queued": (
            "The order is noted as number {number} but our system could not confirm it just "
            "now; staff will call to confirm."),
        "booked": "Booked: code {code}.",
        "booking_queued": (
            "The booking is noted under code {code}, but our system could not confirm it just "
            "now; staff will call to confirm."),
        "booking_changed": "Booking {code} is changed.",
        "booking_cancelled": "Booking {code} is cancelled.",
        # a call picked up again after a crash (agents/resume.py)
        "resume_sorry": "Sorry about that, we were cut off.",
        "resume_order": (
            "{sorry} You have {items} so far. What else would you like, or shall I read your "
            "order back?"),
        "resume_booking": "{sorry} You were booking a table{what}. Let's carry on.",
        "resume_party": " for {party}",
        "resume_at": " at {time}",
        "resume_other_booking": "{sorry} Let's carry on with your booking.",
        "resume_told": "{sorry} {told} Is there anything else I can help with?",
        "resume_help": "{sorry} How can I help you?",
        # calls the restaurant makes: reminders and call-backs (actions/outbound.py)
        "party_one": "1 person",
        "party_many": "{n} people",
        "outbound_table": "a table for {people} {when}, under {customer}",
        "keypad_menu": (
            "You can also use your keypad: press 1 to keep it, 2 to change the time, 3 to "
            "cancel, or 9 if you'd rather we never call you."),
        "reminder_intro": (
            "Hello, this is the automated assistant of {name}, calling to remind you of your "
            "booking: {table}. Will you keep it, change it or cancel it? {keypad}"),
        "callback_intro": (
            "Hello, this is the automated assistant of {name}, calling you back about your "
            "message: {reason}. How can I help?"),
        "voicemail": (
            "Hello, this is {name}, {what}. No need to call back unless something has changed. "
            "Thank you, goodbye."),
        "voicemail_booking": "about your upcoming booking",
        "voicemail_callback": "returning your call",
        "kept": "Kept: {table}.",
        "opted_out": "Stored: this number will not be called again.",
        "cancelled_now": "Your booking is cancelled, code {code}.",
        "changed_now": "Done: your booking is now {table}.",
        # the keypad's answers (telephony/outbound_call.py)
        "keypad_kept": "{kept} Thank you, we look forward to seeing you.",
        "keypad_ask_time": (
            "Enter the new time as four digits, for example 1 9 3 0 for 7:30 in the evening, "
            "then the pound key."),
        "keypad_changed": "{changed} Thank you, goodbye.",
        "keypad_cancelled": "{cancelled} Thank you for letting us know.",
        "keypad_opted_out": "Understood, we will not call you again. Goodbye.",
        # a guest silent after the agent spoke (telephony/outbound_call.py)
        "still_there": "Are you still there?",
        "no_reply_goodbye": "I'll let you go now. Thank you, goodbye.",
        # {why}: ": " and the refusal in the call's language (its fixed line below; one
        # without is written for the model in English and left out in another language).
        "keypad_failed": (
            "Sorry, that did not work{why}. Press 2 to try another time, 1 to keep your "
            "booking, or 3 to cancel."),
        # What staff hear before a warm transfer (actions/staff.py), in the staff's language
        "brief_call": "Call from {name}.",
        "brief_no_name": "a caller who gave no name",
        "brief_wants": "They want: {reason}.",
        "brief_language": "The caller speaks {spoken}.",
        "brief_order": "Order so far: {order}.",
        "brief_booking": "Booking so far: {booking}.",
        "brief_saved": "Already saved on this call: {ids}.",
        "brief_new": "new booking", "brief_change": "change of booking",
        "brief_cancel": "cancellation of booking",
        "brief_code": "code {code}", "brief_party": "for {party}",
        # Refusals a caller hears as fixed lines (domain/refusal.py `said`)
        "refused_past": "that time has already passed",
        "refused_closed": "we are closed that day",
        "refused_not_seated": "we do not seat at {time}; the nearest times are {times}",
        "refused_full": "{time} is fully booked; the free times that day are {times}",
        "refused_full_day": "{time} is fully booked, and nothing else is free that day",
        "refused_unreadable_time": "that is not a time I can read",
    },
    # A deliberate same-shape pair (`duplicates`) with "en" above: the same keys in Spanish.
    "es": {
        "greeting": "¡Gracias por llamar a {name}! ¿Desea hacer un pedido o reservar una mesa?",
        "greeting_returning": (
            "¡Hola, {first}, bienvenido de nuevo a {name}! ¿Desea hacer un pedido o reservar "
            "una mesa?"),
        "goodbye": "Gracias por llamar a {name}. ¡Adiós!",
        "goodbye_outbound": "Gracias por su tiempo. ¡Adiós de parte de {name}!",
        "returned_from_staff": (
            "Disculpe, nadie del equipo ha podido atender el teléfono ahora mismo. Puedo tomar "
            "un mensaje para que le devuelvan la llamada: ¿cuál es su nombre?"),
        "connecting": "Por supuesto, le comunico ahora con una persona de nuestro equipo.",
        "hold": "Un momento. ",
        "say_again": (
            "Disculpe, tengo un pequeño problema técnico. ¿Me lo puede repetir? Si prefiere "
            "hablar con una persona, dígamelo."),
        "transferring": (
            "Disculpe, nuestro sistema no funciona bien en este momento. Le comunico con una "
            "persona de nuestro equipo."),
        "take_message": (
            "Disculpe, nuestro sistema no funciona bien en este momento y nadie puede atender "
            "el teléfono. Dígame su nombre, su número de teléfono y lo que necesita, y el "
            "personal le devolverá la llamada."),
        "message_taken": (
            "Gracias, ya le pasé su mensaje al personal y le devolverán la llamada. Adiós."),
        "cannot_hear": (
            "Disculpe, no le escucho bien y nadie puede atender el teléfono ahora. Por favor, "
            "vuelva a llamar en unos minutos. Adiós."),
        "order_readback": (
            "Le repito su pedido: {items}. Son {total} con impuestos, se paga al recoger, "
            "estará listo hacia {pickup}, a nombre de {customer}, teléfono {phone}. "
            "¿Hago el pedido?"),
        "no_number": "sin número",
        "booking_new": "Le confirmo: {table}, teléfono {phone}. ¿La reservo?",
        "booking_change": "Le confirmo el cambio de la reserva {code}: {table}. ¿Lo hago?",
        "booking_cancel": "Solo para confirmar: ¿cancelo la reserva {code}, {table}? ",
        "table": "una mesa para {party} {when}, a nombre de {customer}",
        "order_placed": (
            "Pedido hecho: número {number}, total {total}, se paga al recoger, estará listo "
            "hacia {pickup}."),
        "order_queued": (
            "El pedido quedó anotado con el número {number}, pero nuestro sistema no pudo "
            "confirmarlo ahora; el personal le llamará para confirmarlo."),
        "booked": "Reservado: código {code}.",
        "booking_queued": (
            "La reserva quedó anotada con el código {code}, pero nuestro sistema no pudo "
            "confirmarla ahora; el personal le llamará para confirmarla."),
        "booking_changed": "La reserva {code} está cambiada.",
        "booking_cancelled": "La reserva {code} está cancelada.",
        "resume_sorry": "Disculpe, se cortó la llamada.",
        "resume_order": (
            "{sorry} Lleva {items} por ahora. ¿Qué más desea, o le repito su pedido?"),
        "resume_booking": "{sorry} Estaba reservando una mesa{what}. Sigamos.",
        "resume_party": " para {party}",
        "resume_at": " a {time}",
        "resume_other_booking": "{sorry} Sigamos con su reserva.",
        "resume_told": "{sorry} {told} ¿Le puedo ayudar en algo más?",
        "resume_help": "{sorry} ¿En qué le puedo ayudar?",
        "party_one": "1 persona",
        "party_many": "{n} personas",
        "outbound_table": "una mesa para {people} {when}, a nombre de {customer}",
        "keypad_menu": (
            "También puede usar el teclado: marque 1 para mantenerla, 2 para cambiar la hora, "
            "3 para cancelarla, o 9 si prefiere que no le volvamos a llamar."),
        "reminder_intro": (
            "Hola, le habla el asistente automático de {name}. Le llamamos para recordarle su "
            "reserva: {table}. ¿Desea mantenerla, cambiarla o cancelarla? {keypad}"),
        "callback_intro": (
            "Hola, le habla el asistente automático de {name}. Le devolvemos la llamada por su "
            "mensaje: {reason}. ¿En qué le puedo ayudar?"),
        "voicemail": (
            "Hola, le llamamos de {name} {what}. No hace falta que nos devuelva la llamada, "
            "salvo que algo haya cambiado. Gracias, adiós."),
        "voicemail_booking": "por su próxima reserva",
        "voicemail_callback": "para devolverle la llamada",
        "kept": "Queda confirmada: {table}.",
        "opted_out": "Anotado: no volveremos a llamar a este número.",
        "cancelled_now": "Su reserva está cancelada, código {code}.",
        "changed_now": "Listo: su reserva queda ahora como {table}.",
        "keypad_kept": "{kept} Gracias, le esperamos.",
        "keypad_ask_time": (
            "Marque la nueva hora con cuatro cifras, por ejemplo 1 9 3 0 para las 7 y media de "
            "la tarde, y después la tecla de numeral."),
        "keypad_changed": "{changed} Gracias, adiós.",
        "keypad_cancelled": "{cancelled} Gracias por avisarnos.",
        "keypad_opted_out": "Entendido, no le volveremos a llamar. Adiós.",
        "still_there": "¿Sigue ahí?",
        "no_reply_goodbye": "Le dejo ya. Gracias, adiós.",
        "keypad_failed": (
            "Lo siento, eso no ha funcionado{why}. Marque 2 para probar otra hora, 1 para mantener "
            "su reserva o 3 para cancelarla."),
        "brief_call": "Llamada de {name}.",
        "brief_no_name": "una persona que no dio su nombre",
        "brief_wants": "Quiere: {reason}.",
        "brief_language": "La persona habla {spoken}.",
        "brief_order": "Pedido hasta ahora: {order}.",
        "brief_booking": "Reserva hasta ahora: {booking}.",
        "brief_saved": "Ya guardado en esta llamada: {ids}.",
        "brief_new": "reserva nueva", "brief_change": "cambio de reserva",
        "brief_cancel": "cancelación de reserva",
        "brief_code": "código {code}", "brief_party": "para {party}",
        "refused_past": "esa hora ya ha pasado",
        "refused_closed": "ese día estamos cerrados",
        "refused_not_seated": "no damos mesa a {time}; las horas más cercanas son {times}",
        "refused_full": "a {time} está completo; ese día quedan libres {times}",
        "refused_full_day": "a {time} está completo y ese día no queda nada libre",
        "refused_unreadable_time": "no entiendo esa hora",
    },
}

# Said on a number no restaurant answers, before any restaurant (or language) is known: both.
UNKNOWN_NUMBER_LINES = {
    "en": ("Sorry, this number is not connected to a restaurant we answer for. "
           "Please check the number and call again. Goodbye."),
    "es": ("Lo sentimos, este número no corresponde a ningún restaurante que atendamos. "
           "Por favor, verifique el número y vuelva a llamar. Adiós."),
}
UNKNOWN_NUMBER = " ".join(UNKNOWN_NUMBER_LINES[lang] for lang in LANGUAGES)

__all__ = ["HOUSE_LINES", "RESTAURANT_LINES", "UNKNOWN_NUMBER", "UNKNOWN_NUMBER_LINES",
           "restaurant_line", "say"]


def _check_catalogue() -> None:
    keys = set(HOUSE_LINES["en"])
    for lang in LANGUAGES:
        missing = keys - set(HOUSE_LINES.get(lang, {}))
        if missing:
            raise RuntimeError(f"domain/lines.py: language {lang!r} lacks {sorted(missing)}")


_check_catalogue()


def say(language: str, key: str, **fields: Any) -> str:
    """The fixed line `key` in `language` (English when the language has no lines)."""
    lines = HOUSE_LINES.get(language, HOUSE_LINES["en"])
    return lines[key].format(**fields)


def restaurant_line(settings: RestaurantSettings, key: str, language: str) -> str:
    """The restaurant's own line in `language`; its English field is the English one."""
    if language != "en":
        said = (settings.lines.get(language) or {}).get(key)
        if said:
            return str(said)
    return str(getattr(settings, key))
