#!/usr/bin/env python3
"""Admin APIs through kafka-python's KafkaAdminClient and confluent-kafka's
AdminClient against a running sesp broker.

usage: admin_clients.py BOOTSTRAP setup|after_restart
setup: creates/validates/alters/grows/deletes topics with both clients and
leaves topic "adm-keep" with retention.ms=123456 for the restart check.
after_restart: checks that adm-keep and its override survived.
"""
import sys
import time

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic
from kafka import errors as kerr
from confluent_kafka import KafkaException
from confluent_kafka import admin as cadmin

BOOT = sys.argv[1]
PHASE = sys.argv[2]


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)
    print("ok:", what)


def expect_error(fn, exc, what):
    try:
        fn()
    except exc as e:
        print("ok:", what, "->", type(e).__name__)
        return
    except Exception as e:  # noqa: BLE001
        raise SystemExit("FAIL: %s: expected %s, got %r" % (what, exc.__name__, e))
    raise SystemExit("FAIL: %s: no error" % what)


def kp_topic_configs(adm, topic):
    """{name: (value, source-or-is_default)} from kafka-python's describe_configs."""
    resp = adm.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    r = resp[0] if isinstance(resp, list) else resp
    res = r.resources[0]
    err, _msg, _typ, name, entries = res[0], res[1], res[2], res[3], res[4]
    if err != 0:
        return err, {}
    return 0, {e[0]: (e[1], e[3]) for e in entries}


def c_partitions(cadm, topic):
    md = cadm.list_topics(timeout=10)
    t = md.topics.get(topic)
    return None if t is None or t.error is not None else len(t.partitions)


def c_result(fut):
    try:
        fut.result(timeout=15)
        return 0
    except KafkaException as e:
        return e.args[0].code()


def kafka_python(adm, cadm):
    adm.create_topics([NewTopic("kp-a", 3, 1, topic_configs={"retention.ms": "100000"})])
    check(c_partitions(cadm, "kp-a") == 3, "kafka-python create_topics: 3 partitions")
    expect_error(lambda: adm.create_topics([NewTopic("kp-a", 1, 1)]), kerr.TopicAlreadyExistsError,
                 "kafka-python duplicate topic")
    expect_error(lambda: adm.create_topics([NewTopic("bad name", 1, 1)]), kerr.InvalidTopicError,
                 "kafka-python invalid topic name")
    expect_error(lambda: adm.create_topics([NewTopic("kp-bad", 1, 1, topic_configs={"retention.ms": "x"})]),
                 kerr.InvalidConfigurationError, "kafka-python invalid config value")
    expect_error(lambda: adm.create_topics([NewTopic("kp-rf", 1, 3)]), kerr.InvalidReplicationFactorError,
                 "kafka-python replication factor 3 on one node")
    adm.create_topics([NewTopic("kp-dry", 1, 1)], validate_only=True)
    check(c_partitions(cadm, "kp-dry") is None, "kafka-python validate_only creates nothing")

    err, cfg = kp_topic_configs(adm, "kp-a")
    check(err == 0 and cfg["retention.ms"][0] == "100000", "kafka-python describe_configs shows the override")
    check(cfg["segment.bytes"][0] == "1073741824", "kafka-python describe_configs shows defaults")
    resp = adm.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-a", configs={"segment.ms": "3600000"})])
    check(all(r[0] == 0 for r in resp.resources), "kafka-python alter_configs")
    err, cfg = kp_topic_configs(adm, "kp-a")
    check(cfg["segment.ms"][0] == "3600000", "alter_configs set segment.ms")
    check(cfg["retention.ms"][0] == "604800000", "alter_configs is not incremental (retention.ms back to default)")
    resp = adm.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-a", configs={"segment.ms": "-3"})])
    check(resp.resources[0][0] == kerr.InvalidConfigurationError.errno, "kafka-python alter_configs bad value")
    err, _ = kp_topic_configs(adm, "kp-none")
    check(err == kerr.UnknownTopicOrPartitionError.errno, "kafka-python describe_configs unknown topic")

    adm.create_partitions({"kp-a": NewPartitions(6)})
    check(c_partitions(cadm, "kp-a") == 6, "kafka-python create_partitions")
    expect_error(lambda: adm.create_partitions({"kp-a": NewPartitions(2)}), kerr.InvalidPartitionsError,
                 "kafka-python create_partitions decrease")
    adm.create_partitions({"kp-a": NewPartitions(9)}, validate_only=True)
    check(c_partitions(cadm, "kp-a") == 6, "kafka-python create_partitions validate_only")

    adm.delete_topics(["kp-a"])
    check(c_partitions(cadm, "kp-a") is None, "kafka-python delete_topics")
    expect_error(lambda: adm.delete_topics(["kp-a"]), kerr.UnknownTopicOrPartitionError,
                 "kafka-python delete unknown topic")


def confluent(cadm):
    fs = cadm.create_topics([cadmin.NewTopic("ck-a", 2, 1, config={"cleanup.policy": "compact"}),
                             cadmin.NewTopic("ck-b", num_partitions=1, replica_assignment=[[1]])])
    check(all(c_result(f) == 0 for f in fs.values()), "confluent create_topics (with a manual assignment)")
    fs = cadm.create_topics([cadmin.NewTopic("ck-c", num_partitions=1, replica_assignment=[[5]])])
    check(c_result(fs["ck-c"]) == 39, "confluent create_topics assignment to an unknown broker")
    fs = cadm.create_topics([cadmin.NewTopic("ck-a", 1, 1)])
    check(c_result(fs["ck-a"]) == 36, "confluent create_topics duplicate")
    fs = cadm.create_topics([cadmin.NewTopic("ck-dry", 1, 1)], validate_only=True)
    check(c_result(fs["ck-dry"]) == 0 and c_partitions(cadm, "ck-dry") is None, "confluent validate_only")

    res = cadmin.ConfigResource(cadmin.ConfigResource.Type.TOPIC, "ck-a")
    cfg = cadm.describe_configs([res])[res].result(timeout=15)
    check(cfg["cleanup.policy"].value == "compact", "confluent describe_configs value")
    check(cfg["cleanup.policy"].source == cadmin.ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
          "confluent describe_configs DYNAMIC_TOPIC_CONFIG")
    check(cfg["retention.ms"].source == cadmin.ConfigSource.DEFAULT_CONFIG.value,
          "confluent describe_configs DEFAULT_CONFIG")
    bres = cadmin.ConfigResource(cadmin.ConfigResource.Type.BROKER, "1")
    bcfg = cadm.describe_configs([bres])[bres].result(timeout=15)
    check(bcfg["log.dirs"].source == cadmin.ConfigSource.STATIC_BROKER_CONFIG.value, "confluent broker configs")

    ares = cadmin.ConfigResource(cadmin.ConfigResource.Type.TOPIC, "ck-a", set_config={"retention.ms": "7200000"})
    check(c_result(cadm.alter_configs([ares])[ares]) == 0, "confluent alter_configs")
    cfg = cadm.describe_configs([res])[res].result(timeout=15)
    check(cfg["retention.ms"].value == "7200000" and cfg["cleanup.policy"].value == "delete",
          "confluent alter_configs replaced the overrides")
    bad = cadmin.ConfigResource(cadmin.ConfigResource.Type.BROKER, "1", set_config={"log.retention.ms": "1"})
    check(c_result(cadm.alter_configs([bad])[bad]) == 42, "confluent alter broker configs refused")

    fs = cadm.create_partitions([cadmin.NewPartitions("ck-a", 4)])
    check(c_result(fs["ck-a"]) == 0 and c_partitions(cadm, "ck-a") == 4, "confluent create_partitions")
    fs = cadm.create_partitions([cadmin.NewPartitions("ck-a", 3)])
    check(c_result(fs["ck-a"]) == 37, "confluent create_partitions decrease")

    fs = cadm.delete_topics(["ck-a", "ck-b", "ck-zzz"])
    check(c_result(fs["ck-a"]) == 0 and c_result(fs["ck-b"]) == 0, "confluent delete_topics")
    check(c_result(fs["ck-zzz"]) == 3, "confluent delete unknown topic")
    check(c_partitions(cadm, "ck-a") is None, "confluent deleted topic is gone")


def main():
    cadm = cadmin.AdminClient({"bootstrap.servers": BOOT})
    if PHASE == "setup":
        adm = KafkaAdminClient(bootstrap_servers=BOOT, request_timeout_ms=15000)
        kafka_python(adm, cadm)
        confluent(cadm)
        fs = cadm.create_topics([cadmin.NewTopic("adm-keep", 2, 1, config={"retention.ms": "123456"})])
        check(c_result(fs["adm-keep"]) == 0, "create adm-keep")
        adm.close()
    else:
        res = cadmin.ConfigResource(cadmin.ConfigResource.Type.TOPIC, "adm-keep")
        cfg = cadm.describe_configs([res])[res].result(timeout=15)
        check(cfg["retention.ms"].value == "123456" and
              cfg["retention.ms"].source == cadmin.ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
              "override survives a restart")
        check(c_partitions(cadm, "adm-keep") == 2, "topic survives a restart")


if __name__ == "__main__":
    main()
