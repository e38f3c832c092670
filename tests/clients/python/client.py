"""A small program on the official Python `kubernetes` client, for mca's end-to-end tests.

Usage: client.py KUBECONFIG COMMAND NS [ARGS]
  create NS NAME k=v,k=v   create a ConfigMap with labels
  get NS NAME              print the ConfigMap's data as JSON
  list NS                  print the names of the ConfigMaps, one per line
"""
import json
import sys

from kubernetes import client, config


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
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main(sys.argv)
