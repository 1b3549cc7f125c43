"""A real Kafka-protocol cluster for tests, the demo and benchmarks, with no Docker.

librdkafka (bundled in the confluent-kafka wheel) contains a mock cluster: brokers that
speak the Kafka wire protocol on loopback ports. We drive its ``rd_kafka_mock_*`` C API
through ctypes, so topics, broker outages and injected request errors are Python calls.

``kafka_from_env()`` picks the cluster: ``KAFKA_BOOTSTRAP_SERVERS`` (an external cluster)
wins; else testcontainers Kafka when ``DAYCLOSE_USE_TESTCONTAINERS=1`` and a Docker engine
answers; else the in-process mock. :mod:`devstack.kafka_process` runs the mock as a process of its own.

The mock does not do transactions/EOS or ``AdminClient.create_topics``; see
``shared/reference/local-infra.md``.
"""

from __future__ import annotations

import ctypes
import enum
import functools
import os
import threading
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
TESTCONTAINERS_ENV = "DAYCLOSE_USE_TESTCONTAINERS"


class KafkaCluster(Protocol):
    """What tests and tools need from any cluster: where it is and how to make topics."""

    @property
    def bootstrap_servers(self) -> str: ...

    def create_topic(self, name: str, partitions: int, replication_factor: int = 1) -> None: ...

    def close(self) -> None: ...


class ApiKey(enum.IntEnum):
    """Kafka protocol request types, for ``push_request_errors``."""

    PRODUCE = 0
    FETCH = 1
    LIST_OFFSETS = 2
    METADATA = 3
    OFFSET_COMMIT = 8
    OFFSET_FETCH = 9
    FIND_COORDINATOR = 10
    JOIN_GROUP = 11
    HEARTBEAT = 12
    LEAVE_GROUP = 13
    SYNC_GROUP = 14
    INIT_PRODUCER_ID = 22


class MockKafkaError(RuntimeError):
    pass


# --- ctypes binding -------------------------------------------------------------------

_RD_KAFKA_PRODUCER = 0
_RD_KAFKA_CONF_OK = 0
_c_void_p, _c_char_p = ctypes.c_void_p, ctypes.c_char_p
# (name, restype, argtypes), as declared in rdkafka.h / rdkafka_mock.h.
# rd_kafka_resp_err_t and rd_kafka_conf_res_t are C enums: int.
_SIGNATURES: list[tuple[str, Any, list[Any]]] = [
    ("rd_kafka_conf_new", _c_void_p, []),
    ("rd_kafka_conf_set", ctypes.c_int, [_c_void_p, _c_char_p, _c_char_p, _c_char_p, ctypes.c_size_t]),
    ("rd_kafka_conf_destroy", None, [_c_void_p]),
    ("rd_kafka_new", _c_void_p, [ctypes.c_int, _c_void_p, _c_char_p, ctypes.c_size_t]),
    ("rd_kafka_destroy", None, [_c_void_p]),
    ("rd_kafka_err2str", _c_char_p, [ctypes.c_int]),
    ("rd_kafka_mock_cluster_new", _c_void_p, [_c_void_p, ctypes.c_int]),
    ("rd_kafka_mock_cluster_destroy", None, [_c_void_p]),
    ("rd_kafka_mock_cluster_bootstraps", _c_char_p, [_c_void_p]),
    ("rd_kafka_mock_topic_create", ctypes.c_int, [_c_void_p, _c_char_p, ctypes.c_int, ctypes.c_int]),
    ("rd_kafka_mock_group_initial_rebalance_delay_ms", None, [_c_void_p, ctypes.c_int32]),
    ("rd_kafka_mock_broker_set_down", ctypes.c_int, [_c_void_p, ctypes.c_int32]),
    ("rd_kafka_mock_broker_set_up", ctypes.c_int, [_c_void_p, ctypes.c_int32]),
    (
        "rd_kafka_mock_push_request_errors_array",
        None,
        [_c_void_p, ctypes.c_int16, ctypes.c_size_t, ctypes.POINTER(ctypes.c_int)],
    ),
    ("rd_kafka_mock_clear_request_errors", None, [_c_void_p, ctypes.c_int16]),
    ("rd_kafka_mock_broker_set_host_port", None, [_c_void_p, ctypes.c_int32, _c_char_p, ctypes.c_int]),
]


def librdkafka_path() -> Path:
    """The librdkafka the confluent_kafka extension itself loads (same process-wide copy)."""
    import confluent_kafka

    libs = Path(confluent_kafka.__file__).resolve().parent.parent / "confluent_kafka.libs"
    found = sorted(libs.glob("librdkafka*.so*")) + sorted(libs.glob("librdkafka*.dylib"))
    if not found:
        raise MockKafkaError(f"no bundled librdkafka in {libs}; is confluent-kafka a binary wheel?")
    return found[0]


@functools.cache
def _lib() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(librdkafka_path()))
    for name, restype, argtypes in _SIGNATURES:
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


def _check(err: int, what: str) -> None:
    if err != 0:
        raise MockKafkaError(f"{what}: {_lib().rd_kafka_err2str(err).decode()} ({err})")


class MockKafkaCluster:
    """librdkafka's mock cluster with ``brokers`` brokers (ids 1..N) on loopback ports."""

    def __init__(self, brokers: int = 3, *, initial_rebalance_delay_ms: int = 0) -> None:
        if brokers < 1:
            raise ValueError("brokers must be >= 1")
        lib = _lib()
        self.brokers = brokers
        self._lock = threading.Lock()
        self._rk: int | None = self._new_handle(lib)
        self._mc: int | None = lib.rd_kafka_mock_cluster_new(self._rk, brokers)
        if not self._mc:
            lib.rd_kafka_destroy(self._rk)
            self._rk = None
            raise MockKafkaError(f"rd_kafka_mock_cluster_new({brokers}) failed")
        # The broker default (3 s) would make every new consumer group wait before joining.
        lib.rd_kafka_mock_group_initial_rebalance_delay_ms(self._mc, initial_rebalance_delay_ms)
        self._bootstrap = lib.rd_kafka_mock_cluster_bootstraps(self._mc).decode()

    @staticmethod
    def _new_handle(lib: ctypes.CDLL) -> int:
        conf, errstr = lib.rd_kafka_conf_new(), ctypes.create_string_buffer(512)
        # The owner handle never connects anywhere; keep its "no bootstrap.servers" notice quiet.
        for key, value in {"client.id": "devstack-mock-owner", "log_level": "4"}.items():
            if lib.rd_kafka_conf_set(conf, key.encode(), value.encode(), errstr, 512) != _RD_KAFKA_CONF_OK:
                lib.rd_kafka_conf_destroy(conf)
                raise MockKafkaError(f"rd_kafka_conf_set {key}: {errstr.value.decode()}")
        rk = lib.rd_kafka_new(_RD_KAFKA_PRODUCER, conf, errstr, 512)
        if not rk:  # on failure the conf is still ours
            lib.rd_kafka_conf_destroy(conf)
            raise MockKafkaError(f"rd_kafka_new: {errstr.value.decode()}")
        return int(rk)

    @property
    def bootstrap_servers(self) -> str:
        return str(self._bootstrap)

    def _cluster(self) -> int:
        if self._mc is None:
            raise MockKafkaError("mock cluster is closed")
        return int(self._mc)

    def create_topic(self, name: str, partitions: int, replication_factor: int = 1) -> None:
        err = _lib().rd_kafka_mock_topic_create(self._cluster(), name.encode(), partitions, replication_factor)
        _check(err, f"create topic {name!r}")

    def broker_down(self, broker_id: int) -> None:
        """Disconnect broker ``broker_id`` and refuse new connections (no leader change)."""
        _check(_lib().rd_kafka_mock_broker_set_down(self._cluster(), broker_id), f"broker {broker_id} down")

    def broker_up(self, broker_id: int) -> None:
        _check(_lib().rd_kafka_mock_broker_set_up(self._cluster(), broker_id), f"broker {broker_id} up")

    def listeners(self) -> dict[int, tuple[str, int]]:
        """Where each broker (id 1..N) listens: the bootstrap list, in broker order."""
        found = {}
        for broker_id, address in enumerate(self._bootstrap.split(","), start=1):
            host, _, port = address.rpartition(":")
            found[broker_id] = (host, int(port))
        return found

    def advertise(self, broker_id: int, host: str, port: int) -> None:
        """Have the broker tell clients (in metadata) to reach it at ``host:port`` instead of where it listens: for a
        relay in front of it (:class:`devstack.netfault.Relay`). Clients learn it with their next metadata."""
        _lib().rd_kafka_mock_broker_set_host_port(self._cluster(), broker_id, host.encode(), port)

    def push_request_errors(self, api_key: int, errors: Iterable[int]) -> None:
        """The next ``len(errors)`` requests of type ``api_key`` fail with these error codes, in order."""
        codes = [int(e) for e in errors]
        array = (ctypes.c_int * len(codes))(*codes)
        _lib().rd_kafka_mock_push_request_errors_array(self._cluster(), int(api_key), len(codes), array)

    def clear_request_errors(self, api_key: int) -> None:
        _lib().rd_kafka_mock_clear_request_errors(self._cluster(), int(api_key))

    def close(self) -> None:
        with self._lock:
            lib = _lib()
            if self._mc is not None:  # the cluster lives on the handle: destroy it first
                lib.rd_kafka_mock_cluster_destroy(self._mc)
                self._mc = None
            if self._rk is not None:
                lib.rd_kafka_destroy(self._rk)
                self._rk = None

    def __enter__(self) -> MockKafkaCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MockKafkaCluster(brokers={self.brokers}, bootstrap_servers={self._bootstrap!r})"


class ExternalKafkaCluster:
    """A cluster someone else runs (``KAFKA_BOOTSTRAP_SERVERS``); topics via AdminClient."""

    def __init__(self, bootstrap_servers: str, *, on_close: Any = None, timeout_s: float = 30.0) -> None:
        self._bootstrap, self._on_close, self._timeout_s = bootstrap_servers, on_close, timeout_s

    @property
    def bootstrap_servers(self) -> str:
        return str(self._bootstrap)

    def create_topic(self, name: str, partitions: int, replication_factor: int = 1) -> None:
        from confluent_kafka import KafkaError, KafkaException
        from confluent_kafka.admin import AdminClient
        from confluent_kafka.cimpl import NewTopic

        admin = AdminClient({"bootstrap.servers": self._bootstrap})
        futures = admin.create_topics(
            [NewTopic(name, partitions, replication_factor)], operation_timeout=self._timeout_s
        )
        try:
            futures[name].result(timeout=self._timeout_s)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    def __enter__(self) -> ExternalKafkaCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@functools.cache
def docker_available() -> bool:
    """Whether a Docker engine answers; asked once per process, never waits more than ~2 s."""
    try:
        import docker

        return bool(docker.from_env(timeout=2).ping())
    except Exception:  # noqa: BLE001 - no client, no daemon, no permission: all mean "no Docker"
        return False


def _testcontainers_kafka() -> ExternalKafkaCluster:
    from testcontainers.kafka import KafkaContainer

    container = KafkaContainer().start()
    return ExternalKafkaCluster(container.get_bootstrap_server(), on_close=container.stop)


def kafka_from_env(brokers: int = 3, env: Mapping[str, str] | None = None) -> KafkaCluster:
    """The cluster this environment asks for; the caller closes it."""
    env = os.environ if env is None else env
    if env.get(BOOTSTRAP_ENV):
        return ExternalKafkaCluster(env[BOOTSTRAP_ENV])
    if env.get(TESTCONTAINERS_ENV) == "1" and docker_available():
        return _testcontainers_kafka()
    return MockKafkaCluster(brokers)


def consumer_config(bootstrap_servers: str, group_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """Consumer settings for tests: at-least-once offsets, fast rejoin, a fresh group by default."""
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers,
        "group.id": group_id or f"test-{uuid.uuid4().hex[:12]}",
        "auto.offset.reset": "earliest",
        "enable.auto.offset.store": False,
        # A restarting member waits ~session.timeout.ms - 1 s for its partitions on the mock.
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
    }
    config.update(overrides)
    return config
