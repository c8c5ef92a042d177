"""Runs for the given number of seconds, then crashes (exit 1), to show restart and rollback."""
import sys
import time

lifetime = float(sys.argv[1])
print(f"flaky: up; will crash in {lifetime:g} s", flush=True)
time.sleep(lifetime)
print("flaky: simulated crash", flush=True)
sys.exit(1)
