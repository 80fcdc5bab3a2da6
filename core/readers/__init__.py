"""One small reader per run-container file kind.

Contract shared by every reader:

* A reader takes the file path(s) and a :class:`runsift.core.safeio.ReadContext`;
  it returns a record from :mod:`runsift.core.records` (never raises for bad
  input) and reports what it could not understand with ``ctx.problem(path, msg, line)``.
* Each reader also exposes a pure ``parse_*`` function over text, for tests.
* Unknown extras are kept (in an ``extra`` mapping), not dropped.
"""
