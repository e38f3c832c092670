/**
 * The `mca` command: declares the modes and dispatches to src/. Each mode is imported only when
 * it runs, so that the sidecar does not carry the webhook's or the injector's code in memory.
 */
import type { Command } from "commander";
import type { ProgramIo } from "./src/cli/run_program.ts";
import {
  PROXY_WAIT_DEFAULTS,
  proxyWaitHookArgs,
  runProxyWaitHook,
} from "./src/cli/proxy_wait_hook.ts";
import { MCA_VERSION } from "./src/version.ts";
// The flags' defaults, from the modules that resolve them. These modules are small and load no
// Node module: main.ts imports them before the postStart hook is answered.
import {
  AGENT_DEFAULTS,
  AGENT_INSTALL_DEFAULTS,
  CHECK_DEFAULTS,
  HUB_DEFAULTS,
  PROXY_DEFAULTS,
  SIDECAR_DEFAULTS,
  WEBHOOK_DEFAULTS,
} from "./src/cli/flag_defaults.ts";

// The sidecar's postStart hook runs beside every starting proxy: it is answered before the
// command line library (and the Node modules it loads) is imported.
const hook = import.meta.main ? proxyWaitHookArgs(Deno.args) : undefined;
if (hook) {
  Deno.exit(await runProxyWaitHook(hook, (text) => console.error(text.trimEnd())));
}
const { Command: CommandClass, Option } = await import("commander");

/** Declares every command; actions only call into src/. */
export function buildProgram(io: ProgramIo): Command {
  const program = new CommandClass("mca")
    .description(
      "Multi-Cluster Adapter for Kubernetes: runs single-cluster apps across clusters, and lets a " +
        "host cluster reach member clusters that cannot be dialled into.",
    )
    .version(MCA_VERSION, "-V, --version", "print the version number")
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    // Options after a subcommand belong to it: `mca proxy explain --config` is explain's.
    .enablePositionalOptions();
  declareVersion(program, io);
  declareInject(program, io);
  declareWebhook(program);
  declareProxyWait(declareProxyExplain(declareProxy(program, io), io));
  declareHubCa(declareHub(program), io);
  declareAgentToken(
    declareAgentManifest(
      declareAgentUninstall(declareAgentInstall(declareAgent(program), io), io),
      io,
    ),
    io,
  );
  declareKubeconfig(program, io);
  declareCheck(program, io);
  declareCompletion(program, io);
  return program;
}

/** `mca version`. */
function declareVersion(program: Command, io: ProgramIo): void {
  program
    .command("version")
    .description("print the mca version, the Deno runtime and the platform")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["text", "json"]).default(
        "text",
      ),
    )
    .allowExcessArguments(false)
    .action(async (options) =>
      (await import("./src/cli/version_command.ts")).versionCommand(options, io.stdout)
    );
}

/** `mca inject`. */
function declareInject(program: Command, io: ProgramIo): void {
  sidecarOptions(program.command("inject"), "--log-level")
    .description(
      "add the mca sidecar to the pods and pod templates in manifests (Pod, Deployment, StatefulSet, " +
        "DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, and Lists of them); writes the " +
        "result to stdout in the input's format and reports what was injected or skipped on stderr",
    )
    .argument("[files...]", 'manifest files; "-" reads stdin, as does no file when stdin is a pipe')
    .option("-f, --filename <file>", 'a manifest file, repeatable; "-" reads stdin', collect)
    .option("-q, --quiet", "do not report on stderr")
    .addHelpText(
      "after",
      "\nPer-pod annotations override these flags: mca.k8s.io/proxy-image, mca.k8s.io/config,\n" +
        "mca.k8s.io/log-level, mca.k8s.io/proxy-{cpu,memory}-{request,limit}. Pods are skipped, with\n" +
        'the reason, when they set mca.k8s.io/inject: "false", use hostNetwork, or set\n' +
        'automountServiceAccountToken: false without mca.k8s.io/inject-without-automount: "true".\n\n' +
        "Examples:\n  mca inject -f deploy.yaml > deploy.injected.yaml\n  kubectl get deploy web -o yaml | mca inject | kubectl apply -f -",
    )
    .action(async (files: string[], options) => {
      const { injectCommand, processInjectIo } = await import("./src/cli/inject_command.ts");
      await injectCommand(files, options, processInjectIo(io));
    });
}

/** `mca webhook`. */
function declareWebhook(program: Command): void {
  sidecarOptions(program.command("webhook"), "--proxy-log-level")
    .description(
      "run the mutating admission webhook that injects the sidecar into opted-in pods on creation; " +
        "keeps its CA in a Secret shared by all replicas and the caBundle of its " +
        "MutatingWebhookConfiguration right (it creates the configuration when missing)",
    )
    .option("--listen <host:port>", "HTTPS listen address", WEBHOOK_DEFAULTS.listen)
    .option(
      "--namespace <ns>",
      "mca's namespace: CA Secret, Service, never injected " +
        `(default: $POD_NAMESPACE or ${WEBHOOK_DEFAULTS.namespace})`,
    )
    .option("--service-name <name>", "Service the API server calls", WEBHOOK_DEFAULTS.serviceName)
    .option("--service-port <port>", "port of that Service", WEBHOOK_DEFAULTS.servicePort)
    .option(
      "--url <url>",
      "development: register the webhook by URL (https://host:port) instead of a Service",
    )
    .option(
      "--configuration-name <name>",
      "MutatingWebhookConfiguration name",
      WEBHOOK_DEFAULTS.configurationName,
    )
    .option("--ca-secret <name>", "Secret holding the shared CA", WEBHOOK_DEFAULTS.caSecret)
    .addOption(
      new Option("--failure-policy <policy>", "when the webhook is down").choices([
        "Fail",
        "Ignore",
      ]).default(WEBHOOK_DEFAULTS.failurePolicy),
    )
    .option(
      "--cert-validity <duration>",
      "serving certificate lifetime; renewed at two thirds",
      WEBHOOK_DEFAULTS.certValidity,
    )
    .option(
      "--ca-validity <duration>",
      "CA lifetime; rotated with 20% left",
      WEBHOOK_DEFAULTS.caValidity,
    )
    .option(
      "--shutdown-delay <duration>",
      "after SIGTERM, keep answering this long (readiness failing, connections asked to close) " +
        "while the API server's endpoints drop this replica; then finish open requests and exit",
      WEBHOOK_DEFAULTS.shutdownDelay,
    )
    .option("--kubeconfig <file>", "kubeconfig to use instead of the in-cluster service account")
    .option("--context <name>", "kubeconfig context")
    .addOption(logLevelOption("--log-level", "webhook log level"))
    .addOption(logFormatOption())
    .addHelpText(
      "after",
      '\nOpt-in: the pod label mca.k8s.io/inject: "true", or the namespace label mca.k8s.io/inject: enabled.\n' +
        "Endpoints: POST /mutate, POST /mutate-namespace, GET /healthz, /readyz, /metrics.\n\n" +
        "Example (local control plane):\n" +
        "  mca webhook --kubeconfig host.kubeconfig --namespace mca-system --listen 127.0.0.1:9443 \\\n" +
        "    --url https://127.0.0.1:9443",
    )
    .action(async (options) =>
      (await import("./src/cli/webhook_command.ts")).webhookCommand(options)
    );
}

/** `mca proxy`; returns it for its subcommands. */
function declareProxy(program: Command, io: ProgramIo): Command {
  return program
    .command("proxy")
    .description(
      "the multi-cluster Kubernetes API proxy: in a pod it is the injected sidecar on 127.0.0.1:6443; " +
        "on a workstation (--contexts) it serves several kubeconfig contexts through one local endpoint",
    )
    .option("--listen <host:port>", "API listener (TLS, loopback)", PROXY_DEFAULTS.listen)
    .option(
      "--health-listen <host:port>",
      'health and metrics listener (plain HTTP; "" to disable)',
    )
    .option("--config <file>", "routing config (YAML); reloaded when it changes")
    .option(
      "--app-credentials-dir <dir>",
      "where to write ca.crt, namespace and token for the app containers",
    )
    .option(
      "--state-dir <dir>",
      "where to keep the proxy's token and CA across restarts (a folder the apps never mount)",
    )
    .option(
      "--service-account-dir <dir>",
      "the pod's own token, ca.crt and namespace (home cluster credentials)",
    )
    .option("--kubeconfig <file>", "workstation: kubeconfig holding the contexts")
    .option("--contexts <a,b>", "workstation: contexts to serve; the first is home and default")
    .option(
      "--write-kubeconfig <file>",
      "workstation: write a kubeconfig that points at this proxy",
    )
    .option(
      "--max-body-bytes <bytes>",
      "largest request body read for routing (413 beyond)",
      PROXY_DEFAULTS.maxBodyBytes,
    )
    .addOption(logLevelOption("--log-level", "log level"))
    .addOption(logFormatOption())
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  mca proxy --contexts east,west --write-kubeconfig /tmp/mca.kubeconfig\n" +
        "  mca proxy explain --config routes.yaml POST /api/v1/namespaces/shop/configmaps -f cm.yaml",
    )
    .enablePositionalOptions()
    .action(async (options) =>
      (await import("./src/cli/proxy_command.ts")).proxyCommand(options, io.stdout)
    );
}

/** `mca proxy explain`; returns `mca proxy`. */
function declareProxyExplain(proxy: Command, io: ProgramIo): Command {
  proxy
    .command("explain")
    .description("print which rule and cluster a request would use, without sending it")
    .argument("<method>", "HTTP method: GET, POST, PUT, PATCH, DELETE")
    .argument("<path>", "API path with query, e.g. /api/v1/namespaces/shop/pods/web-1")
    .option("--config <file>", "routing config (YAML)")
    .option("--kubeconfig <file>", "kubeconfig holding the contexts")
    .option("--contexts <a,b>", "workstation contexts, as for mca proxy")
    .option("-f, --filename <file>", 'request body (JSON or YAML); "-" reads stdin')
    .option("--content-type <type>", "content type of the body (default: from its form)")
    .option("-H, --header <name: value>", "a request header, repeatable", collect)
    .action(async (method: string, path: string, options) =>
      (await import("./src/cli/proxy_command.ts")).proxyExplainCommand(
        method,
        path,
        options,
        io.stdout,
      )
    );
  return proxy;
}

/** `mca proxy wait` (the injected sidecar's postStart hook; see src/cli/proxy_wait_hook.ts). */
function declareProxyWait(proxy: Command): void {
  proxy
    .command("wait")
    .description(
      "wait until the proxy in this container is ready, then exit 0 (exit 1 after the timeout); " +
        "the injected sidecar's postStart hook, which holds the app containers back until then",
    )
    .option("--health-url <url>", "the proxy's readiness check", PROXY_WAIT_DEFAULTS.healthUrl)
    .option("--timeout <duration>", "how long to wait", PROXY_WAIT_DEFAULTS.timeout)
    .action(async (options) =>
      (await import("./src/cli/proxy_wait_command.ts")).proxyWaitCommand(options)
    );
}

/** `mca hub`; returns it for its subcommands. */
function declareHub(program: Command): Command {
  return program
    .command("hub")
    .description(
      "the tunnel hub: accepts agents on /connect (wss + yamux) and serves /clusters/<name>/... " +
        "to users and sidecars, checked with TokenReview and SubjectAccessReview on clusters/proxy; " +
        "with --aggregated-api also the host API server's /apis/proxy.mca.k8s.io/v1alpha1/clusters/<name>/proxy/...",
    )
    .option("--listen <host:port>", "TLS listen address", HUB_DEFAULTS.listen)
    .option(
      "--namespace <ns>",
      "namespace of the CA Secret and agent tokens " +
        `(default: $POD_NAMESPACE or ${HUB_DEFAULTS.namespace})`,
    )
    .option(
      "--ca-secret <name>",
      "Secret holding the hub CA (shared by replicas)",
      HUB_DEFAULTS.caSecret,
    )
    .option(
      "--dns-names <a,b>",
      "DNS names of the serving certificate (default: the mca-hub Service's)",
    )
    .option("--ip-addresses <a,b>", "IP addresses of the serving certificate")
    .option(
      "--cert-validity <duration>",
      "serving and replica certificate lifetime; renewed at two thirds",
      HUB_DEFAULTS.certValidity,
    )
    .option(
      "--ca-check-interval <duration>",
      "how often the hub reads its CA Secret for a rollover phase (mca hub ca rotate)",
      HUB_DEFAULTS.caCheckInterval,
    )
    .option(
      "--replica-id <name>",
      "this replica's name among several hub replicas (default: $POD_NAME)",
    )
    .option(
      "--peer-listen <host:port>",
      "listener for other replicas; mutual TLS is required there",
      HUB_DEFAULTS.peerListen,
    )
    .option(
      "--peer-url <url>",
      "how other replicas reach this one (default: https://$POD_IP:<peer port>)",
    )
    .option(
      "--kubeconfig <file>",
      "kubeconfig of the host cluster instead of the in-cluster service account",
    )
    .option("--context <name>", "kubeconfig context")
    .option(
      "--agent-token-overlap <duration>",
      "after an agent rotates its token, how long the previous one stays accepted",
      HUB_DEFAULTS.agentTokenOverlap,
    )
    .option(
      "--agent-auth-concurrency <n>",
      "host reads at once for checking agents' tokens before they are authenticated; as many " +
        "again wait, more are answered 429 (agents retry), so a flood of made-up tokens cannot " +
        "flood the host API server",
      HUB_DEFAULTS.agentAuthConcurrency,
    )
    .option(
      "--max-requests-per-caller <n>",
      "ordinary requests in flight per caller (authenticated user) on this replica; more are " +
        'answered 429 (watches, logs -f, exec and port-forward are not counted; "0": no limit)',
      HUB_DEFAULTS.maxRequestsPerCaller,
    )
    .option(
      "--shutdown-delay <duration>",
      "after SIGTERM, keep answering this long (readiness failing, connections asked to close) " +
        "while the Service's endpoints drop this replica; then, with replicas, ask the agents " +
        "here to move to another replica before their sessions end",
      HUB_DEFAULTS.shutdownDelay,
    )
    .option(
      "--aggregated-api",
      "also serve /apis/proxy.mca.k8s.io/v1alpha1/clusters/<name>/proxy/... to the host API " +
        "server's front proxy (needs read access to kube-system/extension-apiserver-authentication)",
    )
    .option(
      "--api-service <name>",
      "with --aggregated-api, the APIService whose caBundle the hub keeps set to its CA " +
        '("" to leave it alone)',
      HUB_DEFAULTS.apiService,
    )
    .addOption(logLevelOption("--log-level", "log level"))
    .addOption(logFormatOption())
    .enablePositionalOptions()
    .action(async (options) =>
      (await import("./src/cli/hub_agent_commands.ts")).hubCommand(options)
    );
}

/** `mca hub ca rotate`. */
function declareHubCa(hub: Command, io: ProgramIo): void {
  hub
    .command("ca")
    .description("the hub CA: roll it over without reinstalling members")
    .command("rotate")
    .description(
      "run one phase of a hub CA rollover on the host: prepare (a next CA that agents learn and " +
        "store), switch (the hub serves with it, once every agent holds its pin), finish (the " +
        "previous CA is dropped); prints the pins trusted afterwards",
    )
    .option("--phase <phase>", "prepare, switch or finish")
    .option(
      "--namespace <ns>",
      "the hub's namespace on the host",
      HUB_DEFAULTS.namespace,
    )
    .option("--ca-secret <name>", "Secret holding the hub CA", HUB_DEFAULTS.caSecret)
    .option(
      "--force",
      "switch even when some Cluster's agents do not hold the next pin; finish even when a " +
        "hub replica still serves with the previous CA",
    )
    .option("--kubeconfig <file>", "kubeconfig with the host context")
    .option("--context <name>", "kubeconfig context of the host")
    .addHelpText(
      "after",
      "\nThe switch refuses until every Cluster's status.hubCaTrust (one entry per hub replica)\n" +
        "shows all its connected agents holding (and storing) every pin; the finish refuses until\n" +
        "every entry shows its replica serving with the new CA (the first of its pins). See\n" +
        'docs/operations.md, "Hub CA".\n\n' +
        "Example:\n" +
        "  mca hub ca rotate --phase prepare --context host\n" +
        "  kubectl --context host get clusters -o yaml   # status.hubCaTrust, per hub replica\n" +
        "  mca hub ca rotate --phase switch --context host\n" +
        "  mca hub ca rotate --phase finish --context host",
    )
    .action(async (options) =>
      (await import("./src/cli/hub_ca_command.ts")).hubCaRotateCommand(options, io)
    );
}

/** `mca agent`; returns it for its subcommands. */
function declareAgent(program: Command): Command {
  return program
    .command("agent")
    .description(
      "the member-side agent: dials the hub, verifies it against a pinned CA, and serves tunnelled " +
        "requests against this cluster as the callers (impersonation); reconnects with backoff",
    )
    .option("--hub <url>", "the hub, e.g. https://hub.example.com:9443")
    .option("--cluster <name>", "this member's name on the hub")
    .option(
      "--token-file <file>",
      "the agent token (without --agent-secret)",
      AGENT_DEFAULTS.tokenFile,
    )
    .option(
      "--agent-secret <[namespace/]name>",
      "the agent's own Secret on the member (namespace default: $POD_NAMESPACE): its join token, " +
        "agent token and rotations live there, read and written through the API",
    )
    .option(
      "--token-rotation-interval <duration>",
      'how often the agent rotates its token with --agent-secret ("0": never)',
      AGENT_DEFAULTS.tokenRotationInterval,
    )
    .option(
      "--hub-ca-file <file>",
      "the hub's CA certificate",
      AGENT_DEFAULTS.hubCaFile,
    )
    .option("--hub-ca-pin <sha256:hex>", "pin of the hub CA (sha256 of its public key); required")
    .option(
      "--hub-trust-secret <ns/name>",
      "the agent's own Secret on the member, where it stores hub CAs learned during a rollover " +
        "(get and patch on it); without it they are kept in memory only",
    )
    .option(
      "--member-kubeconfig <file>",
      "kubeconfig of the member instead of the in-cluster service account",
    )
    .option("--member-context <name>", "context in --member-kubeconfig")
    .option(
      "--health-listen <host:port>",
      'health listener: /healthz, /readyz, /metrics ("" to disable)',
      AGENT_DEFAULTS.healthListen,
    )
    .option(
      "--keepalive-interval <duration>",
      "how often the agent pings the hub over an idle session (below load balancers' idle timeouts)",
      AGENT_DEFAULTS.keepaliveInterval,
    )
    .addOption(logLevelOption("--log-level", "log level"))
    .addOption(logFormatOption())
    .enablePositionalOptions()
    .action(async (options) =>
      (await import("./src/cli/hub_agent_commands.ts")).agentCommand(options)
    );
}

/** The flags naming the host and the member cluster, shared by install and uninstall. */
function hostAndMemberFlags(command: Command): Command {
  return command
    .option("--kubeconfig <file>", "kubeconfig with the host context")
    .option("--context <name>", "host context")
    .option(
      "--member-kubeconfig <file>",
      "kubeconfig with the member context (default: --kubeconfig)",
    )
    .option("--member-context <name>", "member context")
    .option(
      "--hub-namespace <ns>",
      "the hub's namespace on the host",
      AGENT_INSTALL_DEFAULTS.hubNamespace,
    );
}

/** `mca agent install`; returns `mca agent`. */
function declareAgentInstall(agent: Command, io: ProgramIo): Command {
  hostAndMemberFlags(
    agentInstallFlags(
      agent
        .command("install")
        .description(
          "register a member with the hub (Cluster object, token hash) and apply the agent to the member; " +
            "waits until the hub reports it connected; running it again changes nothing",
        ),
    ),
  )
    .option(
      "--hub-ca-secret <name>",
      "the Secret with the hub CA in that namespace (the hub's --ca-secret)",
      AGENT_INSTALL_DEFAULTS.hubCaSecret,
    )
    .option(
      "--wait <duration>",
      'how long to wait for "Connected" ("0": do not wait)',
      AGENT_INSTALL_DEFAULTS.wait,
    )
    .option("--dry-run", "print the member manifests instead of applying anything")
    .option("--hub-ca-file <file>", "the hub CA, for --dry-run")
    .action(async (options) =>
      (await import("./src/cli/agent_install_command.ts")).agentInstallCommand(options, io)
    );
  return agent;
}

/** `mca agent uninstall`; returns `mca agent`. */
function declareAgentUninstall(agent: Command, io: ProgramIo): Command {
  hostAndMemberFlags(
    agent
      .command("uninstall")
      .description(
        "delete what mca agent install created: the agent's objects on the member, then the Cluster " +
          "and the agent token hash on the host; running it again finds everything already gone",
      )
      .option("--cluster <name>", "the member's name on the hub"),
  )
    .option(
      "--agent-namespace <ns>",
      "namespace of the agent in the member",
      AGENT_INSTALL_DEFAULTS.agentNamespace,
    )
    .option(
      "--wait [duration]",
      `wait until the agent's pods on the member are gone, at most this long (alone: ${AGENT_INSTALL_DEFAULTS.wait})`,
    )
    .option("--dry-run", "print what would be deleted (one per line on stdout); delete nothing")
    .option(
      "--host-only",
      "only the host's objects (Cluster, agent token, join tokens), without reaching the member: " +
        "for a member that is gone, or whose agent GitOps removes",
    )
    .addHelpText(
      "after",
      "\nOnly objects install created are deleted: the member's carry the labels\n" +
        "app.kubernetes.io/name=mca-agent and app.kubernetes.io/part-of=mca, the host's Cluster was\n" +
        "written by install's field manager and its token Secret carries mca.k8s.io/agent-token.\n" +
        "The agent's namespace is deleted only if install created it (no other field manager) and\n" +
        "it holds nothing else; a namespace that existed before keeps everything but install's labels.\n" +
        "One line per object on stderr: deleted, already gone, or kept and why.\n\n" +
        "Examples:\n" +
        "  mca agent uninstall --cluster west --context host --member-context west --wait\n" +
        "  mca agent uninstall --cluster west --context host --host-only   # member gone or GitOps",
    )
    .action(async (options) =>
      (await import("./src/cli/agent_uninstall_command.ts")).agentUninstallCommand(options, io)
    );
  return agent;
}

/** `mca agent manifest`; returns `mca agent`. */
function declareAgentManifest(agent: Command, io: ProgramIo): Command {
  agentInstallFlags(
    agent.command("manifest").description(
      "print the member manifests for GitOps: with --join-token complete (kubectl apply alone " +
        "installs the agent, no host credential reaches the member); without, the token is a placeholder",
    ),
  )
    .option("--hub-ca-file <file>", "the hub's CA certificate")
    .option(
      "--join-token <token>",
      "a join token from mca agent token create: the agent redeems it at the hub for its agent token",
    )
    .option(
      "--token-rotation-interval <duration>",
      `how often the agents rotate their token ("0": never; default: the agent's, ${AGENT_DEFAULTS.tokenRotationInterval})`,
    )
    .action(async (options) =>
      (await import("./src/cli/agent_install_command.ts")).agentManifestCommand(options, io)
    );
  return agent;
}

/** `mca agent token create`. */
function declareAgentToken(agent: Command, io: ProgramIo): void {
  agent
    .command("token")
    .description("join tokens for members installed from static manifests (GitOps)")
    .command("create")
    .description(
      "create a short-lived, single-use join token for a member on the host (only its hash is " +
        "kept there) and print it with the hub URL, the hub CA pin and the manifest command",
    )
    .option("--cluster <name>", "the member's name on the hub")
    .option("--hub <url>", "the hub as the member's agents reach it")
    .option("--ttl <duration>", "how long the token can be redeemed", "1h")
    .option("--kubeconfig <file>", "kubeconfig with the host context")
    .option("--context <name>", "host context")
    .option(
      "--hub-namespace <ns>",
      "the hub's namespace on the host",
      AGENT_INSTALL_DEFAULTS.hubNamespace,
    )
    .option(
      "--hub-ca-secret <name>",
      "the Secret with the hub CA in that namespace (the hub's --ca-secret)",
      AGENT_INSTALL_DEFAULTS.hubCaSecret,
    )
    .addHelpText(
      "after",
      "\nThe agent redeems the token once at the hub (POST /agent/join), which creates the Cluster\n" +
        "(if missing) and issues the agent token; the agent stores it in its own Secret. A token\n" +
        "that expired, was used, or is wrong is refused with a message saying to create a new one.\n\n" +
        "Example:\n" +
        "  mca agent token create --cluster west --hub https://hub.example.com:9443 --context host",
    )
    .action(async (options) =>
      (await import("./src/cli/agent_token_command.ts")).agentTokenCreateCommand(options, io)
    );
}

/** The flags `mca agent install` and `mca agent manifest` share. */
function agentInstallFlags(command: Command): Command {
  return command
    .option("--hub <url>", "the hub as the agents reach it")
    .option("--cluster <name>", "the member's name on the hub")
    .option(
      "--agent-namespace <ns>",
      "namespace of the agent in the member",
      AGENT_INSTALL_DEFAULTS.agentNamespace,
    )
    .option("--image <image>", "agent image (default: this release's image)")
    .option(
      "--replicas <n>",
      "agent replicas (several spread load and fail over)",
      AGENT_INSTALL_DEFAULTS.replicas,
    )
    .option(
      "--act-as-agent <clusterrole>",
      "opt-in, Kopilot-style: requests run as the agent's ServiceAccount bound to this " +
        "ClusterRole instead of as their caller (sets the Cluster's spec.identity)",
    )
    .option(
      "--https-proxy <url>",
      "HTTPS_PROXY of the agents, e.g. http://proxy:3128 (with credentials, kept in the agent's Secret)",
    )
    .addOption(noProxyOption())
    .option(
      "--keepalive-interval <duration>",
      "the agents' ping interval on an idle session (default: the agent's, 15s)",
    )
    .option(
      "--pod-monitor",
      "add a PodMonitor (monitoring.coreos.com/v1) for the agents' /metrics; the member needs " +
        "the Prometheus Operator's CRDs",
    );
}

/** `mca kubeconfig`. */
function declareKubeconfig(program: Command, io: ProgramIo): void {
  program
    .command("kubeconfig")
    .description(
      "write a kubeconfig with a context per member cluster that goes through the hub, using the " +
        "bearer credentials (token, tokenFile or exec plugin) of your host context; or, with " +
        "--via-host-api-server, through the host API server with your host user unchanged",
    )
    .option("--hub <url>", "the hub, e.g. https://hub.example.com:9443")
    .option(
      "--via-host-api-server",
      "contexts through the host API server (/apis/proxy.mca.k8s.io/v1alpha1/clusters/<name>/proxy), " +
        "keeping your host user as it is (client certificate, exec plugin, OIDC); no --hub needed",
    )
    .option("--hub-ca-file <file>", "the hub's CA certificate")
    .option("--clusters <a,b>", "member clusters (default: the Cluster objects on the host)")
    .option("--kubeconfig <file>", "kubeconfig with the host context")
    .option("--context <name>", "host context (default: current)")
    .option("--prefix <text>", "prefix for the context names")
    .option("-o, --output <file>", "write to this file (mode 600) instead of stdout")
    .action(async (options) =>
      (await import("./src/cli/kubeconfig_command.ts")).kubeconfigCommand(options, io)
    );
}

/** `mca check`. */
function declareCheck(program: Command, io: ProgramIo): void {
  program
    .command("check")
    .description(
      "check an mca installation on the host, one line per check with a hint for each failure: " +
        "the API server, the webhook and its caBundle, the hub, each Cluster, certificates' " +
        "expiry and your rights on clusters/proxy; exit code 1 when a check fails",
    )
    .option("--kubeconfig <file>", "kubeconfig with the host context")
    .option("--context <name>", "host context (default: current)")
    .option(
      "--namespace <ns>",
      "mca's namespace on the host (the webhook's and the hub's Secrets and Services)",
      CHECK_DEFAULTS.namespace,
    )
    .option("--hub <url>", "the hub as agents dial it (default: the mca-hub Service's endpoints)")
    .option(
      "--webhook-configuration <name>",
      "the webhook's MutatingWebhookConfiguration",
      CHECK_DEFAULTS.webhookConfiguration,
    )
    .option(
      "--webhook-ca-secret <name>",
      "the Secret with the webhook CA",
      CHECK_DEFAULTS.webhookCaSecret,
    )
    .option("--hub-ca-secret <name>", "the Secret with the hub CA", CHECK_DEFAULTS.hubCaSecret)
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["text", "json"]).default(
        CHECK_DEFAULTS.output,
      ),
    )
    .addHelpText(
      "after",
      '\nChecks (a check that cannot apply says "skipped" and why; warnings do not fail):\n' +
        "  kubernetes-api  the API server answers /version with your kubeconfig and context\n" +
        "  webhook         its MutatingWebhookConfiguration exists; the caBundle holds the CA of\n" +
        "                  its Secret and verifies the certificate the webhook serves (dialled at\n" +
        "                  its URL or its Service's endpoint, as the API server does); /readyz\n" +
        "                  answers; a dry-run opted-in pod comes back with the sidecar\n" +
        "  hub             its CA Secret exists; /readyz answers (at --hub, the Service's endpoint,\n" +
        "                  or through the API server's service proxy); its certificate chains to\n" +
        "                  that CA for the name dialled; the aggregated entrance's APIService is\n" +
        "                  Available with the hub CA in its caBundle (when registered)\n" +
        "  clusters        each Cluster is Connected with a fresh heartbeat from the hub, and its\n" +
        "                  agents were accepted (the hub refuses agents of an incompatible tunnel\n" +
        "                  version)\n" +
        "  certificates    the webhook and hub CAs and serving certificates: a warning under 30\n" +
        "                  days left (self-renewed serving certificates: under a quarter of their\n" +
        "                  lifetime), a failure once expired\n" +
        "  access          SelfSubjectAccessReview: may you get and create clusters/proxy\n" +
        "                  (mca.k8s.io), as the hub asks for every request, and in\n" +
        "                  proxy.mca.k8s.io, which the host asks for the aggregated entrance\n\n" +
        "Example:\n  mca check --context host --hub https://hub.example.com:9443",
    )
    .action(async (options) =>
      (await import("./src/cli/check_command.ts")).checkCommand(options, io)
    );
}

/** `mca completion`: the script is generated from the declared program. */
function declareCompletion(program: Command, io: ProgramIo): void {
  program
    .command("completion")
    .description("print a shell completion script for mca (bash, zsh or fish)")
    .argument("<shell>", "bash, zsh or fish")
    .addHelpText(
      "after",
      "\nLoad it in the current shell, or install it for every new one:\n" +
        "  source <(mca completion bash)         # bash; e.g. in ~/.bashrc\n" +
        "  source <(mca completion zsh)          # zsh; e.g. in ~/.zshrc\n" +
        "  mca completion fish | source          # fish; or > ~/.config/fish/completions/mca.fish",
    )
    .action(async (shell: string) =>
      (await import("./src/cli/completion_command.ts")).completionCommand(shell, program, io.stdout)
    );
}

/** The sidecar's settings, shared by `mca inject` and `mca webhook` (annotations override them per pod). */
function sidecarOptions(command: Command, logLevelFlag: string): Command {
  return command
    .option("--image <image>", "sidecar image (default: this release's image)")
    .addOption(
      new Option("--image-pull-policy <policy>", "sidecar image pull policy").choices([
        "Always",
        "IfNotPresent",
        "Never",
      ]),
    )
    .option(
      "--config-name <name>",
      `routing ConfigMap of the sidecar (default "${SIDECAR_DEFAULTS.configName}")`,
    )
    .addOption(logLevelOption(logLevelFlag, "sidecar log level"))
    .option(
      "--cpu-request <quantity>",
      `sidecar CPU request (default "${SIDECAR_DEFAULTS.cpuRequest}")`,
    )
    .option(
      "--memory-request <quantity>",
      `sidecar memory request (default "${SIDECAR_DEFAULTS.memoryRequest}")`,
    )
    .option("--cpu-limit <quantity>", "sidecar CPU limit (default none)")
    .option(
      "--memory-limit <quantity>",
      `sidecar memory limit (default "${SIDECAR_DEFAULTS.memoryLimit}")`,
    );
}

function logLevelOption(flag: string, description: string) {
  return new Option(`${flag} <level>`, description).choices(["debug", "info", "warn", "error"]);
}

/** `--no-proxy <list>` takes a value: it is not the negation of a `--proxy` flag. */
function noProxyOption() {
  const option = new Option(
    "--no-proxy <list>",
    "NO_PROXY of the agents: hosts, .domains, IPs, CIDRs that go direct",
  );
  option.negate = false;
  return option;
}

function logFormatOption() {
  return new Option("--log-format <format>", "log format").choices(["json", "text"]);
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
  const { EXIT_OK, runProgram } = await import("./src/cli/run_program.ts");
  const code = await runProgram(buildProgram(io), Deno.args, io);
  if (code !== EXIT_OK) Deno.exit(code);
}
