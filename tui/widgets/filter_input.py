"""The filter box: an ``Input`` whose editing keys act in the order they were typed.

Textual runs a widget's key bindings (backspace, ctrl+u, ctrl+w, enter ...) as actions queued
after the key event, while printable characters are inserted as the event is handled. Keys that
arrive in one burst (a paste, a script, a slow SSH link: ``/``, ctrl+u, ``churn``, enter) then
happen out of order: ``churn`` is typed first and ctrl+u, queued behind it, deletes it. Here a
key that is one of the input's own bindings runs its action at once, in turn with the characters.
"""

from __future__ import annotations

from textual import events
from textual.binding import NoBinding
from textual.widgets import Input


class FilterInput(Input):
    """An ``Input`` that never reorders a burst of typed keys."""

    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable:
            try:
                bindings = self._bindings.get_bindings_for_key(event.key)
            except NoBinding:
                bindings = []
            for binding in bindings:
                if binding.priority:
                    continue  # the app has handled those before the key reached us
                event.stop()
                event.prevent_default()
                await self.run_action(binding.action)
                return
        await super()._on_key(event)
