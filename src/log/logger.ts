/** Structured logging: JSON lines for machines (the default in pods), plain text for terminals. */

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Fields attached to a log line; never put secrets here. */
export type LogFields = Record<string, unknown>;

/** Where log lines go. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Options of createLogger. */
export interface LoggerOptions {
  level?: LogLevel;
  format?: "json" | "text";
  /** Receives each finished line; default stderr. */
  write?: (line: string) => void;
  now?: () => Date;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Creates a logger that drops lines below the level. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const minimum = RANK[options.level ?? "info"];
  const format = options.format ?? "json";
  const encoder = new TextEncoder();
  const write = options.write ??
    ((line: string) => Deno.stderr.writeSync(encoder.encode(line + "\n")));
  const now = options.now ?? (() => new Date());
  const log = (level: LogLevel) => (message: string, fields: LogFields = {}) => {
    if (RANK[level] < minimum) return;
    write(
      format === "json"
        ? jsonLine(now(), level, message, fields)
        : textLine(level, message, fields),
    );
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** A logger that discards everything (tests, libraries used quietly). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function jsonLine(time: Date, level: LogLevel, message: string, fields: LogFields): string {
  return JSON.stringify({ time: time.toISOString(), level, msg: message, ...fields });
}

function textLine(level: LogLevel, message: string, fields: LogFields): string {
  const extra = Object.entries(fields).map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(" ");
  return `${level.toUpperCase()} ${message}${extra ? " " + extra : ""}`;
}
