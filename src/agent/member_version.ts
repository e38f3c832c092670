/** The member API server's version, as the agent tells the hub at connect. */
import type { Upstream } from "../forward/mod.ts";

/** The member's version (`/version`), told to the hub at connect; empty when unknown. */
export async function memberVersion(member: Upstream): Promise<string> {
  try {
    const response = await member.request({
      method: "GET",
      path: "/version",
      headers: { accept: "application/json" },
    });
    let text = "";
    for await (const chunk of response) text += chunk;
    return (JSON.parse(text) as { gitVersion?: string }).gitVersion ?? "";
  } catch {
    return "";
  }
}
