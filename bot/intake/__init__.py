"""Intake edges: each turns one handoff format (generic JSON, Bot Framework, Dialogflow CX) into a `Handoff`."""

from bot.intake.botframework import is_handoff_initiate, parse_handoff_initiate
from bot.intake.dialogflow import parse_dialogflow_handoff
from bot.intake.generic import parse_generic_handoff

__all__ = ["is_handoff_initiate", "parse_dialogflow_handoff", "parse_generic_handoff", "parse_handoff_initiate"]
