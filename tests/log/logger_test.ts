import { createLogger } from "../../src/log/mod.ts";
import { assertEquals } from "../_utils/assert.ts";

Deno.test("the logger writes JSON lines with time, level, message and fields, from its level up", () => {
  const lines: string[] = [];
  const logger = createLogger({
    level: "info",
    write: (line) => lines.push(line),
    now: () => new Date("2026-12-07T10:00:00Z"),
  });
  logger.debug("hidden");
  logger.info("agent connected", { cluster: "east", streams: 2 });
  logger.error("failed");
  assertEquals(lines.map((line) => JSON.parse(line)), [
    {
      time: "2026-12-07T10:00:00.000Z",
      level: "info",
      msg: "agent connected",
      cluster: "east",
      streams: 2,
    },
    { time: "2026-12-07T10:00:00.000Z", level: "error", msg: "failed" },
  ]);
});

Deno.test("the text format puts the level first and quotes field values", () => {
  const lines: string[] = [];
  const logger = createLogger({
    format: "text",
    level: "debug",
    write: (line) => lines.push(line),
  });
  logger.debug("request", { path: "/api/v1", code: 200 });
  logger.warn("plain");
  assertEquals(lines, ['DEBUG request path="/api/v1" code=200', "WARN plain"]);
});
