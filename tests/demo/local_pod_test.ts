import { assertEquals } from "../_utils/assert.ts";
import { localPorts, rewritePaths } from "../../scripts/demo/local_pod.ts";

const container = {
  name: "proxy",
  image: "mca",
  volumeMounts: [
    { name: "config", mountPath: "/etc/mca" },
    { name: "proxy", mountPath: "/etc/mca/proxy" },
  ],
};

Deno.test("rewritePaths() points mounted paths into the container's root, longest mount first", () => {
  assertEquals(
    rewritePaths("--config=/etc/mca/proxy/c.yaml", container, "/r"),
    "--config=/r/etc/mca/proxy/c.yaml",
  );
  assertEquals(rewritePaths("/etc/mca/x", container, "/r"), "/r/etc/mca/x");
  assertEquals(
    rewritePaths("--config=/etc/mcax/c.yaml", container, "/r"),
    "--config=/etc/mcax/c.yaml",
  );
  assertEquals(rewritePaths("--name=/etc/other", container, "/r"), "--name=/etc/other");
});

Deno.test("localPorts() moves listeners on every interface to loopback ports, keeps loopback ones", () => {
  const ports = new Map<number, number>();
  let next = 40000;
  const pick = () => next++;
  assertEquals(
    localPorts("--health-listen=0.0.0.0:16443", ports, pick),
    "--health-listen=127.0.0.1:40000",
  );
  assertEquals(localPorts("--metrics=:16443", ports, pick), "--metrics=127.0.0.1:40000");
  assertEquals(localPorts("--listen=127.0.0.1:6443", ports, pick), "--listen=127.0.0.1:6443");
  assertEquals(ports.get(16443), 40000);
});
