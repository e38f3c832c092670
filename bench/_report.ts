/** Printing benchmark results: a table per benchmark, with ratios to the first row. */

/** One measured variant. */
export interface Row {
  name: string;
  values: Record<string, number>;
}

/** The median of samples. */
export function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A benchmark's result: rows, and whether ratios to the first row mean anything. */
export interface BenchResult {
  /** Replaces the benchmark's name as the table title. */
  title?: string;
  rows: Row[];
  /** False when the rows measure different things (no common baseline). */
  ratios: boolean;
}

/** Formats rows as a text table; with ratios, each value is followed by its ratio to the first row's. */
export function formatTable(title: string, { rows, ratios }: BenchResult): string {
  const columns = Object.keys(rows[0]?.values ?? {});
  const base = rows[0]?.values ?? {};
  const cells = rows.map((row) => [
    row.name,
    ...columns.map((column) => {
      const value = row.values[column] ?? NaN;
      const ratio = value / (base[column] ?? NaN);
      return ratios ? `${value.toFixed(1)} (${ratio.toFixed(2)}x)` : value.toFixed(1);
    }),
  ]);
  const header = ["variant", ...columns];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (parts: string[]) => parts.map((p, i) => p.padEnd(widths[i]!)).join("  ");
  return [`## ${title}`, line(header), ...cells.map(line)].join("\n");
}
