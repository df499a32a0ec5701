"""Does a failed sign-in take as long for an email with no account as for one with?

Run with `.venv/bin/python benchmarks/bench_signin.py [ROUNDS]`. It builds the app on a
throwaway SQLite database with the real password hashing (werkzeug's scrypt, not the
test suite's cheap setting) and throttling off, makes one account, then sends failed
sign-ins through the whole stack (form, CSRF off, service, audit trail, commit),
alternating a wrong password for the existing email and any password for an unknown
email, and prints the median time of each and their difference.

Target: the medians within 5 ms of each other (a scrypt check costs tens of ms, so
without the dummy hash the unknown email would answer that much faster). The median
of many alternating rounds keeps the noise of a shared machine out of the comparison.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 5.0


def main(rounds: int = 60) -> int:
    from quizapp import create_app
    from quizapp.accounts import create_user
    from quizapp.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="bench-signin-"))
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
        "THROTTLE_ENABLED": False, "LOG_LEVEL": "WARNING", "INSTANCE_PATH": str(folder),
    })
    assert "PASSWORD_HASH_METHOD" not in app.config  # the production method: scrypt
    with app.app_context():
        db.create_all()
        user = create_user("known@example.com", "Known Person", "amber falcon orchard tide",
                           ["trainee"])
        db.session.commit()
        method = user.password_hash.split("$")[0]
    client = app.test_client()
    cases = {"known email, wrong password": "known@example.com",
             "unknown email": "nobody@example.com"}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_number in range(rounds + 3):
        for name, email in (cases.items() if round_number % 2 else reversed(cases.items())):
            started = time.perf_counter()
            response = client.post("/auth/login", data={"email": email,
                                                        "password": "not the password"})
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 401, response.status_code
            if round_number >= 3:  # the first rounds warm up (and make the dummy hash)
                times[name].append(elapsed)
    print(f"password hashing: {method}; {rounds} failed sign-ins each, alternating")
    for name, values in times.items():
        deciles = statistics.quantiles(values, n=10)
        print(f"{name:<28} median {statistics.median(values):7.1f} ms"
              f"   (p10 {deciles[0]:.1f}, p90 {deciles[-1]:.1f})")
    known, unknown = (statistics.median(times[name]) for name in cases)
    gap = abs(known - unknown)
    verdict = "ok" if gap <= TARGET_MS else "FURTHER APART THAN TARGET"
    print(f"difference of the medians     {gap:7.1f} ms  (target {TARGET_MS} ms)  {verdict}")
    return 0 if gap <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 60))
