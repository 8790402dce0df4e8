"""Fault rules a scenario switches on step by step, applied by the charge point's driver.

- ``ignore``: requests of an action are never answered, so the CSMS's own timeout runs;
- ``delay``: requests of an action are answered late;
- ``drop``: frames of an action, in one direction, vanish on the way.

Each rule may be limited to a number of frames; the counts make a run reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mockpoint.rpc.frames import Direction


@dataclass
class _Budget:
    """How many more times a rule applies; None: always."""

    left: int | None = None

    def take(self) -> bool:
        if self.left is None:
            return True
        if self.left <= 0:
            return False
        self.left -= 1
        return True


@dataclass
class DropRule:
    direction: Direction
    #: None: frames of any action
    action: str | None
    budget: _Budget = field(default_factory=_Budget)


@dataclass
class FaultRules:
    ignore: dict[str, _Budget] = field(default_factory=dict)
    delay: dict[str, tuple[float, _Budget]] = field(default_factory=dict)
    drops: list[DropRule] = field(default_factory=list)

    def add_ignore(self, action: str, count: int | None) -> None:
        self.ignore[action] = _Budget(count)

    def add_delay(self, action: str, seconds: float, count: int | None) -> None:
        self.delay[action] = (seconds, _Budget(count))

    def add_drop(self, direction: Direction, action: str | None, count: int | None) -> None:
        self.drops.append(DropRule(direction, action, _Budget(count)))

    def ignores(self, action: str) -> bool:
        budget = self.ignore.get(action)
        return budget is not None and budget.take()

    def delay_of(self, action: str) -> float:
        rule = self.delay.get(action)
        if rule is None or not rule[1].take():
            return 0.0
        return rule[0]

    def drops_frame(self, direction: Direction, action: str | None) -> bool:
        for rule in self.drops:
            if rule.direction == direction and rule.action in (None, action):
                if rule.budget.take():
                    return True
        return False
