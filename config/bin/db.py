"""A pretend database for the demo: loads its journal, says it is ready on fd 3, then appends
a line to the journal every two seconds until asked to stop."""
import os
import signal
import sys
import time

directory = sys.argv[1]
journal = os.path.join(directory, "db.journal")
stop = False


def on_term(signum, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
entries = sum(1 for _ in open(journal)) if os.path.exists(journal) else 0
print(f"db: loaded {entries} journal entries", flush=True)
time.sleep(0.5)  # pretend loading takes a moment: readiness, not exec, marks it started
os.write(3, b"ready\n")
os.close(3)
print("db: ready", flush=True)
with open(journal, "a") as f:
    while not stop:
        f.write(f"{time.time():.0f} tick\n")
        f.flush()
        time.sleep(2)
print("db: shutting down cleanly", flush=True)
