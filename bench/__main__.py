"""`make bench`: every benchmark in turn."""

from __future__ import annotations

import runpy
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    from bench import foundation

    print("== Foundation (issue #2)")
    foundation.main()
    calendar = HERE / "bench_calendar.py"
    if calendar.exists():
        print("== Business-hours calendar")
        runpy.run_path(str(calendar), run_name="__main__")
    from bench import sla_sweep

    print("== SLA sweep (issue #3)")
    sla_sweep.main()
    from bench import mail_ingest

    print("== Mail ingest (issue #5)")
    mail_ingest.main()
    from bench import http_load

    print("== HTTP load: the API under gunicorn against a bare-Flask ceiling (issue #4)")
    http_load.main()
    from bench import request_cost

    print("== Where an API request's time goes: CPU in the process, against the ceiling (issue #4)")
    request_cost.main()
    from bench import reports

    print("== Reports: SLA compliance and the monthly service-level report (issue #7)")
    reports.main()


if __name__ == "__main__":
    main()
