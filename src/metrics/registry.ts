/** A small Prometheus metrics registry: counters, gauges and histograms with labels, text exposition 0.0.4. */

/** Label values by label name. */
export type Labels = Record<string, string>;

/** A monotonically increasing count. */
export interface Counter {
  inc(labels?: Labels, by?: number): void;
  get(labels?: Labels): number;
}

/** A value that goes up and down. */
export interface Gauge {
  set(value: number, labels?: Labels): void;
  inc(labels?: Labels, by?: number): void;
  dec(labels?: Labels, by?: number): void;
  get(labels?: Labels): number;
  /** Drops the series of these labels (a cluster that is gone), so that it is no longer rendered. */
  remove(labels?: Labels): void;
}

/** A distribution of observations in cumulative buckets. */
export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

/** Owns metrics and renders them for a /metrics endpoint. */
export interface MetricsRegistry {
  counter(name: string, help: string): Counter;
  gauge(name: string, help: string): Gauge;
  histogram(name: string, help: string, buckets?: number[]): Histogram;
  /** Runs `collect` at each render, before the text is made: for values read at scrape time. */
  beforeRender(collect: () => void): void;
  /** The Prometheus text format. */
  render(): string;
}

/** Buckets in seconds for request latencies, from 0.5 ms to 10 s. */
export const LATENCY_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(): string[];
}

/** Creates an empty registry. */
export function createMetricsRegistry(): MetricsRegistry {
  const families: Family[] = [];
  const collectors: (() => void)[] = [];
  const add = <T extends Family>(family: T): T => {
    if (families.some((f) => f.name === family.name)) {
      throw new Error(`Metric "${family.name}" is registered twice`);
    }
    families.push(family);
    return family;
  };
  return {
    counter: (name, help) => add(valueFamily(name, help, "counter")),
    gauge: (name, help) => add(valueFamily(name, help, "gauge")),
    histogram: (name, help, buckets = LATENCY_BUCKETS) => add(histogramFamily(name, help, buckets)),
    beforeRender: (collect) => void collectors.push(collect),
    render: () => {
      for (const collect of collectors) collect();
      return families.map((f) =>
        [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.render()].join("\n")
      )
        .join("\n") + "\n";
    },
  };
}

function valueFamily(name: string, help: string, type: "counter" | "gauge"): Family & Gauge {
  const values = new Map<string, { labels: Labels; value: number }>();
  const entry = (labels: Labels) => {
    const key = labelKey(labels);
    let found = values.get(key);
    if (!found) values.set(key, found = { labels, value: 0 });
    return found;
  };
  return {
    name,
    help,
    type,
    inc: (labels = {}, by = 1) => void (entry(labels).value += by),
    dec: (labels = {}, by = 1) => void (entry(labels).value -= by),
    set: (value, labels = {}) => void (entry(labels).value = value),
    get: (labels = {}) => values.get(labelKey(labels))?.value ?? 0,
    remove: (labels = {}) => void values.delete(labelKey(labels)),
    render: () =>
      [...values.values()].map(({ labels, value }) => `${name}${formatLabels(labels)} ${value}`),
  };
}

function histogramFamily(name: string, help: string, buckets: number[]): Family & Histogram {
  const series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();
  return {
    name,
    help,
    type: "histogram",
    observe(value, labels = {}) {
      const key = labelKey(labels);
      let s = series.get(key);
      if (!s) series.set(key, s = { labels, counts: buckets.map(() => 0), sum: 0, count: 0 });
      buckets.forEach((bound, i) => {
        if (value <= bound) s!.counts[i]!++;
      });
      s.sum += value;
      s.count++;
    },
    render: () =>
      [...series.values()].flatMap(({ labels, counts, sum, count }) => [
        ...buckets.map((bound, i) =>
          `${name}_bucket${formatLabels({ ...labels, le: String(bound) })} ${counts[i]}`
        ),
        `${name}_bucket${formatLabels({ ...labels, le: "+Inf" })} ${count}`,
        `${name}_sum${formatLabels(labels)} ${sum}`,
        `${name}_count${formatLabels(labels)} ${count}`,
      ]),
  };
}

// On the proxy's hot path: callers pass labels in a fixed order, so no sorting or JSON.
function labelKey(labels: Labels): string {
  let key = "";
  for (const name in labels) key += `${name}\u0000${labels[name]}\u0001`;
  return key;
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  const escape = (value: string) =>
    value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
  return `{${entries.map(([key, value]) => `${key}="${escape(value)}"`).join(",")}}`;
}
