"""`backsmith bench`: every operation measured against the latency budgets the contract declares.

The package follows the run's data flow:

    options.py   the run's settings, checked (bad ones: InputError, exit 2)
    target.py    the service measured: started on a scratch database and seeded, or a URL
    pool.py      rows to address: read from the database, or from the list operations
    requests.py  each operation's requests, valid per the contract (bodies.py, callers.py)
    driver.py    load: the built-in generator (worker.py, a process of its own) or wrk (wrk.py)
    results.py   HDR histograms -> percentiles, errors, budgets met or missed
    report.py    the table, results.json, latency.png and report.html
    run.py       the whole run: `run_bench(options) -> BenchReport`

This module imports nothing, so that the generator's process starts quickly.
"""
