"""Pushes lines through python-logging-loki, a real Loki client library from PyPI.

usage: push_loki.py URL COUNT RUN_ID [USER PASSWORD]
"""
import logging
import sys

import logging_loki

url, count, run_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
auth = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else None
handler = logging_loki.LokiHandler(url=url, tags={"app": "pyclient", "run": run_id}, auth=auth, version="1")
log = logging.getLogger("bitacora-test")
log.setLevel(logging.DEBUG)
log.addHandler(handler)
for i in range(count):
    level = logging.ERROR if i % 10 == 0 else logging.INFO
    log.log(level, "python line %d of %s", i, run_id, extra={"tags": {"worker": str(i % 3)}})
print("pushed", count)
