/** Flags of `mca check` and their resolution (pure). */
// Leaves only: main.ts imports this file (through cli/flag_defaults.ts) for every command.
import { HUB_DEFAULTS } from "../hub/hub_options.ts";
import { WEBHOOK_DEFAULTS } from "../webhook/webhook_options.ts";

/** What the user may pass. */
export interface CheckOptions {
  kubeconfig?: string;
  context?: string;
  /** mca's namespace on the host: the webhook's and the hub's Secrets and Services. */
  namespace?: string;
  /** The hub as agents and users reach it; default: the hub Service's endpoints. */
  hub?: string;
  webhookConfiguration?: string;
  webhookCaSecret?: string;
  hubCaSecret?: string;
  output?: string;
}

/** Every setting decided. */
export interface ResolvedCheckOptions {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  hubUrl?: string;
  /** The hub's Service, probed when no hub URL is given. */
  hubService: { name: string; port: number };
  webhookConfiguration: string;
  webhookCaSecret: string;
  hubCaSecret: string;
  output: "text" | "json";
}

/**
 * The flags' defaults: those of `mca webhook` and `mca hub`, which are the chart's names for a
 * release "mca" in "mca-system" (charts/mca/values.yaml).
 */
export const CHECK_DEFAULTS = {
  namespace: HUB_DEFAULTS.namespace,
  webhookConfiguration: WEBHOOK_DEFAULTS.configurationName,
  webhookCaSecret: WEBHOOK_DEFAULTS.caSecret,
  hubCaSecret: HUB_DEFAULTS.caSecret,
  output: "text",
} as const satisfies CheckOptions;

/** The hub's Service as the chart names it (charts/mca/templates/hub/service.yaml). */
const HUB_SERVICE = { name: "mca-hub", port: 443 };

/** Resolves flags; throws on a value that cannot work. */
export function resolveCheckOptions(options: CheckOptions): ResolvedCheckOptions {
  const output = options.output ?? CHECK_DEFAULTS.output;
  if (output !== "text" && output !== "json") {
    throw new Error(`Invalid --output "${output}": use text or json`);
  }
  if (options.hub !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(options.hub);
    } catch {
      url = undefined;
    }
    if (url?.protocol !== "https:") {
      throw new Error(`Invalid --hub "${options.hub}": use the hub's https:// URL`);
    }
  }
  return {
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.context ? { context: options.context } : {}),
    namespace: options.namespace ?? CHECK_DEFAULTS.namespace,
    ...(options.hub ? { hubUrl: options.hub.replace(/\/+$/, "") } : {}),
    hubService: HUB_SERVICE,
    webhookConfiguration: options.webhookConfiguration ?? CHECK_DEFAULTS.webhookConfiguration,
    webhookCaSecret: options.webhookCaSecret ?? CHECK_DEFAULTS.webhookCaSecret,
    hubCaSecret: options.hubCaSecret ?? CHECK_DEFAULTS.hubCaSecret,
    output,
  };
}
