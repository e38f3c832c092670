/**
 * kube-controller-manager and kube-scheduler of a test cluster with a node, each with the
 * client certificate its bootstrap RBAC binding names (system:kube-controller-manager,
 * system:kube-scheduler), like kubeadm's. The controller manager runs every default controller
 * (service accounts and their tokens, the root-CA publisher, garbage collection, namespace
 * deletion, ClusterRole aggregation, Deployments, ReplicaSets, endpoints...), each with its own
 * service account.
 */
import { join } from "node:path";
import { renderKubeconfig } from "../kube/mod.ts";
import { type CertificateAuthority, issueCertificate } from "../pki/mod.ts";
import { cgroupProcsFiles } from "./_cgroups.ts";
import { type ManagedProcess, startManagedProcess } from "./managed_process.ts";

/** What both need. */
export interface ControllersSpec {
  clusterName: string;
  dir: string;
  ca: CertificateAuthority;
  apiServerUrl: string;
  serviceAccountKeyFile: string;
  /** The slot's cgroup for control-plane processes (so a sweep finds them). */
  cgroup: string;
  binaries: { kubeControllerManager: string; kubeScheduler: string };
}

/** The two running processes. */
export interface RunningControllers {
  controllerManager: ManagedProcess;
  scheduler: ManagedProcess;
}

/** Starts both (they wait for the API server on their own). */
export async function startControllers(spec: ControllersSpec): Promise<RunningControllers> {
  const kubeconfig = async (user: string) => {
    const cert = await issueCertificate(spec.ca, { commonName: user, usages: ["client"] });
    const path = join(spec.dir, `${user.replace("system:", "")}.kubeconfig`);
    await Deno.writeTextFile(
      path,
      renderKubeconfig([{
        name: spec.clusterName,
        server: spec.apiServerUrl,
        caPem: spec.ca.certificatePem,
        user: { certPem: cert.certificatePem, keyPem: cert.privateKeyPem },
      }]),
      { mode: 0o600 },
    );
    return path;
  };
  const caKey = join(spec.dir, "ca.key");
  await Deno.writeTextFile(caKey, spec.ca.privateKeyPem, { mode: 0o600 });
  const controllerManagerConfig = await kubeconfig("system:kube-controller-manager");
  const schedulerConfig = await kubeconfig("system:kube-scheduler");
  const launch = (name: string, binary: string, args: string[]) =>
    startManagedProcess(`${name}-${spec.clusterName}`, "sh", [
      "-c",
      'IFS=:; for f in $1; do echo $$ >"$f" || exit 125; done; unset IFS; shift; exec "$@"',
      "mca-controller-launch",
      cgroupProcsFiles(spec.cgroup).join(":"),
      binary,
      ...args,
    ], { logPath: join(spec.dir, `${name}.log`) });
  const controllerManager = await launch(
    "kube-controller-manager",
    spec.binaries.kubeControllerManager,
    [
      `--kubeconfig=${controllerManagerConfig}`,
      `--authentication-kubeconfig=${controllerManagerConfig}`,
      `--authorization-kubeconfig=${controllerManagerConfig}`,
      "--secure-port=0",
      "--leader-elect=false",
      "--use-service-account-credentials=true",
      `--service-account-private-key-file=${spec.serviceAccountKeyFile}`,
      `--root-ca-file=${join(spec.dir, "ca.crt")}`,
      `--cluster-signing-cert-file=${join(spec.dir, "ca.crt")}`,
      `--cluster-signing-key-file=${caKey}`,
      `--cluster-name=${spec.clusterName}`,
      "--controllers=*",
      "--allocate-node-cidrs=false",
      "--configure-cloud-routes=false",
      "--v=1",
    ],
  );
  const scheduler = await launch("kube-scheduler", spec.binaries.kubeScheduler, [
    `--kubeconfig=${schedulerConfig}`,
    `--authentication-kubeconfig=${schedulerConfig}`,
    `--authorization-kubeconfig=${schedulerConfig}`,
    "--secure-port=0",
    "--leader-elect=false",
    "--v=1",
  ]);
  return { controllerManager, scheduler };
}
