"""Sign-in does not tell who has an account by how long it takes."""
from __future__ import annotations

import statistics
import time

from disclosure_engine.services.users import authenticate, create_user


def _median_seconds(call, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def test_an_unknown_username_costs_as_much_as_a_wrong_password(db):
    create_user(db, "chair.kent", roles=["chair"], areas=["kent"], password="correct horse battery staple")
    wrong = _median_seconds(lambda: authenticate(db, "chair.kent", "not the password"))
    unknown = _median_seconds(lambda: authenticate(db, "chair.kentt", "not the password"))
    # a real check is one argon2 verification (about 0.1 s); an unknown name used to answer in
    # a few milliseconds. The bound is loose on purpose: it is about the order, not speed.
    assert unknown > 0.4 * wrong, (unknown, wrong)
    assert authenticate(db, "chair.kent", "correct horse battery staple") is not None
