/** The `mca` command: declares the modes and dispatches to src/. */
import { Command, Option } from "commander";
import {
  EXIT_OK,
  injectCommand,
  processInjectIo,
  type ProgramIo,
  runProgram,
  versionCommand,
} from "./src/cli/mod.ts";
import { MCA_VERSION } from "./src/version.ts";

/** Declares every command; actions only call into src/. */
export function buildProgram(io: ProgramIo): Command {
  const program = new Command("mca")
    .description(
      "Multi-Cluster Adapter for Kubernetes: runs single-cluster apps across clusters, and lets a " +
        "host cluster reach member clusters that cannot be dialled into.",
    )
    .version(MCA_VERSION, "-V, --version", "print the version number")
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);

  program
    .command("version")
    .description("print the mca version, the Deno runtime and the platform")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["text", "json"]).default(
        "text",
      ),
    )
    .allowExcessArguments(false)
    .action((options) => versionCommand(options, io.stdout));

  program
    .command("inject")
    .description(
      "add the mca sidecar to the pods and pod templates in manifests (Pod, Deployment, StatefulSet, " +
        "DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, and Lists of them); writes the " +
        "result to stdout in the input's format and reports what was injected or skipped on stderr",
    )
    .argument("[files...]", 'manifest files; "-" reads stdin')
    .option("-f, --filename <file>", 'a manifest file, repeatable; "-" reads stdin', collect)
    .option("--image <image>", "sidecar image (default: this release's image)")
    .addOption(
      new Option("--image-pull-policy <policy>", "sidecar image pull policy").choices([
        "Always",
        "IfNotPresent",
        "Never",
      ]),
    )
    .option("--config-name <name>", 'ConfigMap with the routing config (default "mca-proxy")')
    .addOption(
      new Option("--log-level <level>", "sidecar log level").choices([
        "debug",
        "info",
        "warn",
        "error",
      ]),
    )
    .option("--cpu-request <quantity>", 'sidecar CPU request (default "10m")')
    .option("--memory-request <quantity>", 'sidecar memory request (default "48Mi")')
    .option("--cpu-limit <quantity>", "sidecar CPU limit (default none)")
    .option("--memory-limit <quantity>", 'sidecar memory limit (default "256Mi")')
    .option("-q, --quiet", "do not report on stderr")
    .addHelpText(
      "after",
      "\nPer-pod annotations override these flags: mca.k8s.io/proxy-image, mca.k8s.io/config,\n" +
        "mca.k8s.io/log-level, mca.k8s.io/proxy-{cpu,memory}-{request,limit}. Pods are skipped, with\n" +
        'the reason, when they set mca.k8s.io/inject: "false", use hostNetwork, or set\n' +
        'automountServiceAccountToken: false without mca.k8s.io/inject-without-automount: "true".\n\n' +
        "Examples:\n  mca inject -f deploy.yaml > deploy.injected.yaml\n  kubectl get deploy web -o yaml | mca inject - | kubectl apply -f -",
    )
    .action((files: string[], options) => injectCommand(files, options, processInjectIo(io)));

  return program;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

if (import.meta.main) {
  const encoder = new TextEncoder();
  const io: ProgramIo = {
    stdout: (text) => Deno.stdout.writeSync(encoder.encode(text)),
    stderr: (text) => Deno.stderr.writeSync(encoder.encode(text)),
  };
  const code = await runProgram(buildProgram(io), Deno.args, io);
  if (code !== EXIT_OK) Deno.exit(code);
}
