"""``make demo-data`` and ``make bench``: demo histories and benchmarks of the local stack.

Everything here talks to the stack only through its public interfaces on 127.0.0.1: the
gateway's API, the mock channels' control API and, for plans, the orders service's internal
endpoint. Modules without I/O (mix, stats, scenarios, cpu math, report) are unit tested.
"""
