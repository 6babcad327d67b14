"""The serving API's metric names, labels and buckets (``GET /metrics``).

TF Serving's families keep its names, labels, units (microseconds) and buckets verbatim, so
dashboards and alert rules written for TF Serving read this API unchanged; the bot's own
families are ``voiceops_*`` in the usual Prometheus naming. The list is the contract the
monitoring rules and dashboards are written against: rename nothing here without them.
"""

from __future__ import annotations

# ---- TF Serving's families ----------------------------------------------------------------
REQUEST_COUNT = ":tensorflow:serving:request_count"  # {model_name, status}
REQUEST_LATENCY = ":tensorflow:serving:request_latency"  # {model_name, API, entrypoint}, µs
RUNTIME_LATENCY = ":tensorflow:serving:runtime_latency"  # {model_name, API, runtime}, µs
QUEUING_LATENCY = ":tensorflow:serving:batching_session:queuing_latency"  # {thread_pool_name}
GRAPH_RUNS = ":tensorflow:core:graph_runs"  # model runs (one per batch), no labels

#: TF Serving's counters, exposed without the ``_total`` suffix prometheus_client adds
TF_COUNTERS = frozenset({REQUEST_COUNT, GRAPH_RUNS})

#: ``model_name`` of the whole turn (the API's own request); a family's model is
#: ``training.families.FAMILIES[name].model_name`` (``voicebot-nlu``, ...)
BOT_MODEL_NAME = "voiceops-bot"
TURN_API, PREDICT_API = "turn", "predict"
ENTRYPOINT = "REST"
RUNTIME = "TF2"
THREAD_POOL = "voiceops_turns"


def exponential_buckets(scale: float, growth: float, count: int) -> tuple[float, ...]:
    """TF's ``monitoring::Buckets::Exponential``: ``count`` upper bounds from ``scale`` up,
    to six significant digits as TF Serving prints them (``le="188.957"``)."""
    return tuple(float(f"{scale * growth**i:.6g}") for i in range(count))


#: request and runtime latency: 10 µs to ~24 min (TF Serving's scale 10, power 1.8, 33)
LATENCY_US_BUCKETS = exponential_buckets(10, 1.8, 33)
#: time in a batch queue: 100 µs to ~1.3 s (TF Serving's scale 100, power 1.2, 52)
QUEUING_US_BUCKETS = exponential_buckets(100, 1.2, 52)


def grpc_status(http_status: int) -> str:
    """The TF Serving (gRPC) status name of an HTTP answer."""
    if http_status < 400:
        return "OK"
    if http_status == 429:
        return "RESOURCE_EXHAUSTED"
    if http_status == 503:
        return "UNAVAILABLE"
    if http_status == 404:
        return "NOT_FOUND"
    if http_status < 500:
        return "INVALID_ARGUMENT"
    return "INTERNAL"


# ---- the bot's families -------------------------------------------------------------------
TURN_STAGE_SECONDS = "voiceops_turn_stage_seconds"  # {stage, arm}
INTENT_CONFIDENCE = "voiceops_intent_confidence"  # {language, arm, nlu_version}
TURNS = "voiceops_turns"  # {language, arm, action}
HANDOFFS = "voiceops_handoffs"  # {language, arm}
EMPTY_TRANSCRIPTS = "voiceops_empty_transcripts"  # {language, arm}
LOW_CONFIDENCE_TURNS = "voiceops_low_confidence_turns"  # {language, arm}
FALLBACKS = "voiceops_fallbacks"  # {family, arm}
EVENTS_BUFFERED = "voiceops_events_buffered"  # gauge, summed over live workers
EVENTS_LOST = "voiceops_events_lost"  # must stay 0
EXPERIMENT_EXPOSURES = "voiceops_experiment_exposures"  # {experiment, arm}
MODEL_INFO = "voiceops_model_info"  # {family, version, alias} = 1

#: ``arm`` of a turn outside any experiment
CHAMPION_ARM = "champion"
#: ``action`` of a turn that failed
ERROR_ACTION = "error"
STAGE_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONFIDENCE_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 21))
