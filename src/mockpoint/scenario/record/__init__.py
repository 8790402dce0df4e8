"""Record and replay: frames of a session → a scenario that reproduces the charge point's side.

``mockpoint record`` (docs/reference/record.md; README.md, "Record and replay") and the
shell's ``save`` turn a ``--transcript`` of ``mockpoint run`` or ``mockpoint shell``, or the
mock CSMS's ``--log``, into a scenario file (docs/scenario-format.md) that replays the
recorded charge point's side of the session. The work goes in four steps, a module each:

- :mod:`~mockpoint.scenario.record.reading` reads the input: which of the two files it is,
  its records (:class:`Record`) and what their frames say (the charge point's own times,
  its energy readings, whether the session's clock ran by itself).
- :mod:`~mockpoint.scenario.record.replay` drives a shadow station through the records and
  makes each frame a step or no step (:func:`record_scenario`, which gives a
  :class:`Recording`); its docstring says how frames become steps.
- :mod:`~mockpoint.scenario.record.configuration` guesses the charge point's meter
  configuration keys from the recorded samples, for the scenario's ``charge_point`` block.
- :mod:`~mockpoint.scenario.record.writing` writes values as the steps say them (durations,
  powers, an ``expect``'s volatile values) and the scenario's YAML text (:func:`to_yaml`).

Callers import from here.
"""

from mockpoint.scenario.record.reading import Origin, Record, charge_points, read_records
from mockpoint.scenario.record.replay import Recording, find_seed, record_scenario
from mockpoint.scenario.record.writing import to_yaml

__all__ = [
    "Origin",
    "Record",
    "Recording",
    "charge_points",
    "find_seed",
    "read_records",
    "record_scenario",
    "to_yaml",
]
