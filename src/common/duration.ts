/** Durations on the command line: "90s", "15m", "12h", "30d" (and combinations such as "1h30m"). */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration into milliseconds; throws a message that shows the accepted form. */
export function parseDuration(text: string, flag: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  const consumed = parts.map((part) => part[0]).join("");
  if (parts.length === 0 || consumed !== text) {
    throw new Error(
      `Invalid ${flag} "${text}": use a duration such as "90s", "15m", "12h" or "30d"`,
    );
  }
  const ms = parts.reduce((sum, part) => sum + Number(part[1]) * UNITS[part[2]!]!, 0);
  if (!(ms > 0)) throw new Error(`Invalid ${flag} "${text}": must be longer than zero`);
  return ms;
}

/** As parseDuration, but "0" (or "0s", "0m"…) is allowed and means none. */
export function parseDurationOrZero(text: string, flag: string): number {
  return /^0+(ms|s|m|h|d)?$/.test(text) ? 0 : parseDuration(text, flag);
}
