"""Parse stage: records -> typed events, by the WebSphere and the WebLogic grammars."""

# NOTE: the WebLogic events are imported with the stage, so that every table of event kinds
# (ev.event_kinds(): the export's columns, the parse table) is the same whichever grammar ran first
from tracelens.parse import weblogic_events as weblogic_events
