"""Pick a project to narrow the runs list to."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..safe import literal

ALL = "\0all"


class ProjectPicker(ModalScreen[str | None]):
    """A list of projects; enter picks one ("all projects" clears the narrowing)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, projects: list[str]) -> None:
        super().__init__()
        self.projects = projects

    def compose(self) -> ComposeResult:
        options = [Option("(all projects)", id=ALL)] + [Option(literal(p), id=f"p:{p}") for p in self.projects]
        yield OptionList(*options, id="project-list")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ALL
        self.dismiss("" if option_id == ALL else option_id[2:])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
