"""A small program on the official Python `kubernetes` client, for mca's end-to-end tests.

Usage: client.py KUBECONFIG COMMAND NS [ARGS]
  create NS NAME k=v,k=v   create a ConfigMap with labels
  get NS NAME              print the ConfigMap's data as JSON
  list NS                  print the names of the ConfigMaps, one per line
  watch NS SECONDS [RV]    watch for SECONDS (from RV: resume), printing "TYPE NAME@CLUSTER RV"
                           for each event, then "resume-from RV" with the version the client
                           would resume from
"""
import json
import sys

from kubernetes import client, config, watch


def main(argv):
    if len(argv) < 4:
        sys.exit("usage: client.py KUBECONFIG COMMAND NS [ARGS]")
    config.load_kube_config(config_file=argv[1])
    core = client.CoreV1Api()
    command, namespace = argv[2], argv[3]
    if command == "create":
        labels = dict(pair.split("=", 1) for pair in argv[5].split(",")) if len(argv) > 5 and argv[5] else {}
        body = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=argv[4], labels=labels), data={"writer": "python"}
        )
        core.create_namespaced_config_map(namespace, body)
        print("created", argv[4])
    elif command == "get":
        print(json.dumps(core.read_namespaced_config_map(argv[4], namespace).data))
    elif command == "list":
        for item in core.list_namespaced_config_map(namespace).items:
            print(item.metadata.name)
    elif command == "watch":
        watcher = watch.Watch()
        options = {"timeout_seconds": int(argv[4])}
        if len(argv) > 5:
            options["resource_version"] = argv[5]
        for event in watcher.stream(core.list_namespaced_config_map, namespace, **options):
            metadata = event["object"].metadata
            cluster = (metadata.annotations or {}).get("mca.k8s.io/cluster")
            print(event["type"], f"{metadata.name}@{cluster}", metadata.resource_version, flush=True)
        print("resume-from", watcher.resource_version, flush=True)
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main(sys.argv)
