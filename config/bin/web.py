"""A pretend web server for the demo: 'serves' a request a second, reading the db journal."""
import os
import sys
import time

journal = os.path.join(sys.argv[1], "db.journal")
print("web: listening (pretend)", flush=True)
n = 0
while True:
    n += 1
    size = os.path.getsize(journal) if os.path.exists(journal) else 0
    print(f"web: GET /items/{n} 200 (journal {size} bytes)", flush=True)
    time.sleep(1)
