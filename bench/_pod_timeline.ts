/**
 * When a pod's sandbox and containers were made and started, from the node's containerd log
 * (its CRI plugin logs each call with nanosecond times): the kubelet's view, to the
 * millisecond, where a pod's status has whole seconds.
 */

/** Times (ms since the epoch) of one pod's steps; undefined where the log has none. */
export interface PodTimeline {
  sandboxReady?: number;
  /** Per container name: when the kubelet asked for it, and when it was started. */
  containers: Record<string, { createRequested?: number; started?: number }>;
}

/** Reads the steps of the pod with this uid from a containerd log's text. */
export function podTimeline(log: string, podUid: string): PodTimeline {
  const timeline: PodTimeline = { containers: {} };
  let sandbox: string | undefined;
  const ids = new Map<string, string>();
  for (const line of log.split("\n")) {
    const time = /^time="([^"]+)"/.exec(line)?.[1];
    if (!time) continue;
    const ms = Date.parse(time.replace(/(\.\d{3})\d*Z$/, "$1Z"));
    const ready = new RegExp(
      `RunPodSandbox for .*Uid:${podUid},.* returns sandbox id \\\\"([0-9a-f]+)`,
    )
      .exec(line);
    if (ready) {
      sandbox = ready[1];
      timeline.sandboxReady = ms;
      continue;
    }
    if (!sandbox || !line.includes(sandbox) && !line.includes("StartContainer")) continue;
    const requested =
      /CreateContainer within sandbox .* for container &ContainerMetadata\{Name:([^,]+),Attempt:0,/
        .exec(line);
    if (requested && line.includes(sandbox)) {
      (timeline.containers[requested[1]!] ??= {}).createRequested ??= ms;
      continue;
    }
    const created =
      /for &ContainerMetadata\{Name:([^,]+),Attempt:0,\} returns container id \\"([0-9a-f]+)/
        .exec(line);
    if (created && line.includes(sandbox)) {
      ids.set(created[2]!, created[1]!);
      continue;
    }
    const started = /StartContainer for \\"([0-9a-f]+)\\" returns successfully/.exec(line);
    const name = started ? ids.get(started[1]!) : undefined;
    if (name) (timeline.containers[name] ??= {}).started ??= ms;
  }
  return timeline;
}
