/**
 * Each mode's flag defaults, as its options module declares them, for main.ts to hand to
 * commander: the one place main.ts reaches them through. Only options modules load here (no
 * Node module, no Kubernetes client), so the postStart hook's path stays light.
 */
export { AGENT_DEFAULTS } from "../agent/agent_options.ts";
export { CHECK_DEFAULTS } from "../check/check_options.ts";
export { HUB_DEFAULTS } from "../hub/hub_options.ts";
export { SIDECAR_DEFAULTS } from "../inject/inject_settings.ts";
export { AGENT_INSTALL_DEFAULTS } from "../members/agent_install_options.ts";
export { PROXY_DEFAULTS } from "../proxy/proxy_options.ts";
export { WEBHOOK_DEFAULTS } from "../webhook/webhook_options.ts";
