"""A demo worker: does a 'job' every two seconds, named after its argument."""
import sys
import time

name = sys.argv[1]
job = 0
while True:
    job += 1
    print(f"worker {name}: finished job {job}", flush=True)
    time.sleep(2)
