"""Sends logs through the OpenTelemetry Python SDK's OTLP/HTTP exporter (from PyPI), via the
standard library's logging and the SDK's LoggingHandler, inside a span.

usage: otel_logs.py URL RUN_ID [TENANT]
prints: the trace id and span id of the span (hex), one per line
"""
import logging
import sys

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

url, run_id = sys.argv[1], sys.argv[2]
headers = {"X-Scope-OrgID": sys.argv[3]} if len(sys.argv) > 3 else None
resource = Resource.create(
    {
        "service.name": "checkout",
        "service.namespace": "shop",
        "deployment.environment.name": "test",
        "k8s.pod.name": "checkout-7d9f",
        "host.name": "node-1",
        "run": run_id,
    }
)
provider = LoggerProvider(resource=resource)
provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=url, headers=headers)))
handler = LoggingHandler(level=logging.DEBUG, logger_provider=provider)
log = logging.getLogger("shop.payments")
log.setLevel(logging.DEBUG)
log.propagate = False
log.addHandler(handler)

tracer = TracerProvider(resource=resource).get_tracer("shop.tracer")
with tracer.start_as_current_span("pay") as span:
    ctx = span.get_span_context()
    log.warning("card declined for order %s", "42", extra={"order.id": "42", "amount": 12.5})
    log.error("payment gateway timeout")
log.info("no span here")
provider.force_flush()
provider.shutdown()
print(format(ctx.trace_id, "032x"))
print(format(ctx.span_id, "016x"))
