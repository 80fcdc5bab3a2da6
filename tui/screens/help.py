"""Help: keys, filter syntax, where runsift keeps its files."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# runsift

**Runs screen** — `/` filter · `enter` open · `space` mark (two at most) · `d` diff the two marked runs
(or the marked one against the cursor) · `s` sort by the next column, `S` reverse · `p` narrow to a
project · `r` rescan every file of every run · `ctrl+p` jump to any run by name · `q` quit.

**Filters** (typed, all must match): `KEY OP VALUE` with `=  !=  >  >=  <  <=  ~` (contains), or a bare
word matched against id, name and project. Keys: `project`, `name`, `status`, `started`, `kind`,
`sweep`, `problems`, a metric (`val_auc`), or `config.…`, `data.…`, `seeds.…`, `env.python`, `code.commit`.
Example: `project=fraud-model val_auc>0.92 status!=failed cosine`.

**Run screen** — `←/→` switch tabs (Overview, Config, Env, Data, Metrics, Artifacts, Notes, Problems) ·
`c` next per-step curve · `m` mark · `escape` back.

**Diff screen** — `a` changes only / everything · `x` swap A and B · `c` next shared curve · `escape` back.

runsift never writes inside your runs folder. Its index lives in `~/.cache/runsift/` and the app's
marks and last filter in `~/.local/state/runsift/` (XDG locations).

Press `escape` to close.
"""


class HelpScreen(ModalScreen[None]):
    """Keys and filter syntax."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP, open_links=False)
