"""OpenTelemetry: traces for HTTP, SQL and jobs, each span tagged with the tenant.

The exporter follows the standard variables (OTEL_TRACES_EXPORTER=otlp|console|none,
OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME). With none set, tracing stays on the API's
no-op provider: nothing is recorded, so it costs the request path nothing.
"""

from __future__ import annotations

import logging

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from dealerhub.platform import log_redaction
from dealerhub.platform.config import Settings
from dealerhub.platform.tenancy import current_tenant

TENANT_ATTRIBUTE = "dealerhub.tenant_id"
_configured = False


class TenantSpanProcessor(SpanProcessor):
    """Copies the tenant of the current scope onto every span as it starts."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        tenant_id = current_tenant.get()
        if tenant_id is not None:
            span.set_attribute(TENANT_ATTRIBUTE, str(tenant_id))


class TraceIdLogFilter(logging.Filter):
    """Puts the current trace id on every log record (`%(trace_id)s`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else "-"
        return True


def _exporter(settings: Settings) -> SpanExporter | None:
    kind = settings.otel.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if kind == "console":
        return ConsoleSpanExporter()
    return None


def enabled() -> bool:
    return _configured


def setup(settings: Settings, extra: SpanProcessor | None = None) -> bool:
    """Install the tracer provider and the SQL instrumentation once per process, when an
    exporter is configured (or a test passes its own processor). Returns whether tracing is on."""
    global _configured
    _setup_logging()
    provider = trace.get_tracer_provider()
    if _configured and isinstance(provider, TracerProvider):
        if extra is not None:
            provider.add_span_processor(extra)
        return True
    exporter = _exporter(settings)
    if exporter is None and extra is None:
        return False
    service = settings.otel.get("OTEL_SERVICE_NAME", "dealerhub")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(TenantSpanProcessor())
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    if extra is not None:
        provider.add_span_processor(extra)
    trace.set_tracer_provider(provider)
    if settings.is_postgres:  # SQLite statements are traced by db.TracedSQLiteEngine
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

        AsyncPGInstrumentor().instrument(tracer_provider=provider)
    _configured = True
    return True


def _setup_logging() -> None:
    log_redaction.install()
    handler = logging.StreamHandler()
    handler.addFilter(TraceIdLogFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s trace=%(trace_id)s %(message)s")
    )
    root = logging.getLogger()
    if not any(isinstance(f, TraceIdLogFilter) for h in root.handlers for f in h.filters):
        root.addHandler(handler)
        root.setLevel(logging.INFO)
