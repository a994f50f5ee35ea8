"""A switch point for compiled loops on background threads.

The interpreter offers the GIL to a waiting thread every ``sys.getswitchinterval()`` (5 ms); code
compiled by mypyc runs without those checks, so a long compiled loop on a background thread (the
performance worker's pass over thousands of spans) would keep the application's threads waiting
until it ends. Such a loop calls :func:`switch_point` every few dozen items: entering an
interpreted function is where CPython checks for a pending switch request, so the lock changes
hands as it would in interpreted code, and the call costs next to nothing when no thread waits.
This module must stay interpreted (setup.py does not compile it).
"""

from __future__ import annotations

SWITCH_EVERY = 64
"""Items a compiled loop handles between two switch points (a few hundred microseconds of work)."""


def switch_point() -> None:
    """Nothing: the interpreter's check on entering it is the point."""
