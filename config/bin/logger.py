"""The demo's logging service: writes a heartbeat line every few seconds to its logfile."""
import sys
import time

print(f"logger: started, data in {sys.argv[1]}", flush=True)
while True:
    print(f"logger: heartbeat at {time.strftime('%H:%M:%S')}", flush=True)
    time.sleep(3)
