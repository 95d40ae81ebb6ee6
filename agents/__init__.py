"""The four agents of a call and the state they share."""

from agents.confirmation import ConfirmationAgent
from agents.intent_classifier import IntentClassifier
from agents.order import OrderAgent
from agents.reservation import ReservationAgent
from conversation.state import CallServices, ReservationDraft, UserData

__all__ = [
    "CallServices", "ConfirmationAgent", "IntentClassifier", "OrderAgent", "ReservationAgent",
    "ReservationDraft", "UserData",
]
