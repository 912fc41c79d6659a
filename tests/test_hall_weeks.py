"""The hall as a whole, over simulated days (issue 28): hypothesis drives the real core API through
the operations of tests/hall/operations.py — arrivals, calls, transfers, every intake outcome,
reviews by the right and the wrong department, extensions, suspensions, pickups, ratings, the clock
jumping over midnight, weekends and holidays, two halls in one database — and after every step the
invariants of tests/hall/invariants.py must hold. What a user would notice when this fails: the TV
calling two people with one number, yesterday's people called today, a legal date that moved, a
board that disagrees with the counter; the failure names the shortest steps that show it.

A bounded run on SQLite and on PostgreSQL (derandomized: the same steps every time); the long
run is benchmarks/hall_weeks.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.conftest import pg_admin_url
from tests.hall.databases import Databases
from tests.hall.invariants import INVARIANTS
from tests.hall.operations import OPERATIONS, Outcome, Simulation, Step

# Each operation as often as its weight in the random walk (hypothesis shrinks towards the first).
WEIGHTED = [name for name, (_, weight) in OPERATIONS.items() for _ in range(weight)]
# Two runs of 100 steps (a few simulated days each): under a minute per database on a quiet 2-core
# machine while the invariants hold; a failure spends longer, shrinking it to its shortest steps.
RUN = settings(
    max_examples=2,
    stateful_step_count=100,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.generate, Phase.shrink),
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest) -> Iterator[Databases]:
    made = Databases("sqlite") if request.param == "sqlite" else Databases("postgresql", pg_admin_url())
    yield made
    made.close()


def hall_weeks(databases: Databases) -> type[RuleBasedStateMachine]:
    class HallWeeks(RuleBasedStateMachine):
        """One run: a fresh two-hall database, then steps until hypothesis stops."""

        def __init__(self) -> None:
            super().__init__()
            self.url = databases.fresh()
            self.sim = Simulation(self.url)
            self.last: Outcome | None = None

        @rule(
            operation=st.sampled_from(WEIGHTED),
            hall=st.integers(0, 1),
            seed=st.integers(0, (1 << 30) - 1),
        )
        def step(self, operation: str, hall: int, seed: int) -> None:
            self.last = self.sim.run(Step(operation, hall, seed))
            note(self.last.said)

        @invariant()
        def the_hall_invariants_hold(self) -> None:
            if self.last is None or not self.last.violations:
                return
            said = "\n".join(
                f"{name}: {v}" for name, found in self.last.violations.items() for v in found[:3]
            )
            raise AssertionError(f"after {self.last.step}:\n{said}")

        def teardown(self) -> None:
            self.sim.close()
            databases.drop(self.url)

    return HallWeeks


def test_the_hall_invariants_hold_over_simulated_days(databases: Databases) -> None:
    run_state_machine_as_test(hall_weeks(databases), settings=RUN)


def test_every_invariant_is_named_and_says_its_rule() -> None:
    """A reader finds each rule by its name and reads it in plain words (docs/architecture.md)."""
    for check in INVARIANTS:
        assert check.__doc__ and len(check.__doc__.split()) >= 8, check.__name__
    assert len({c.__name__ for c in INVARIANTS}) == len(INVARIANTS)
