/**
 * prom-client integration: the watchdog's metric families as prom-client metric objects, so
 * a service that serves prom-client's registry on its own `/metrics` carries the watchdog's
 * series there too — one scrape target, one port.
 *
 * The values still come from the Rust registry the GC observer updates: each scrape asks the
 * addon once for every family (the same walk `/metrics` renders) and hands prom-client
 * plain `{ metricName, labels, value }` samples. prom-client only formats them, so the
 * merged output is what the watchdog's own `/metrics` serves, plus the registry's default
 * labels. Registries of either content type work (OpenMetrics appends `_total` to counters
 * itself: counter samples carry no `metricName`).
 */
import type { NativeFamily } from "./binding.js";

/** A sample as prom-client's `metric.get()` returns it. */
interface PromClientValue {
  metricName?: string;
  labels: Record<string, string>;
  value: number;
}

/** What prom-client's registry reads of a metric (`registerMetric`, `metrics()`, `getMetricsAsJSON()`). */
export interface PromClientMetric {
  name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator: "sum";
  get(): Promise<{ name: string; help: string; type: string; aggregator: "sum"; values: PromClientValue[] }>;
  reset(): void;
}

/** What the watchdog needs of a prom-client `Registry` (prom-client 13 to 15). */
export interface PromClientRegistry {
  registerMetric(metric: PromClientMetric): void;
  removeSingleMetric(name: string): void;
}

/** Whether `value` looks like a prom-client registry. */
export function isRegistry(value: unknown): value is PromClientRegistry {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r["registerMetric"] === "function" && typeof r["removeSingleMetric"] === "function";
}

/**
 * The watchdog's families registered in one prom-client registry. `read` gives the current
 * families (`null` once the watchdog stopped); it is called once per scrape, not per family.
 */
export class RegisteredFamilies {
  private readonly names: string[] = [];
  private cached: Map<string, NativeFamily> | null = null;

  constructor(
    private readonly registry: PromClientRegistry,
    private readonly read: () => NativeFamily[] | null,
  ) {}

  /** Registers one metric object per family; throws (registering nothing) when a name is taken. */
  register(families: NativeFamily[]): void {
    try {
      for (const family of families) {
        this.registry.registerMetric(this.metric(family));
        this.names.push(family.name);
      }
    } catch (err) {
      this.unregister();
      throw new Error(`cannot add the watchdog's metrics to the prom-client registry: ${(err as Error).message}`);
    }
  }

  /** Removes the families from the registry. */
  unregister(): void {
    for (const name of this.names.splice(0)) this.registry.removeSingleMetric(name);
  }

  /** The family `name` as of this scrape: the registry asks every metric in one synchronous pass. */
  private current(name: string): NativeFamily | undefined {
    if (this.cached === null) {
      this.cached = new Map((this.read() ?? []).map((f) => [f.name, f]));
      queueMicrotask(() => {
        this.cached = null;
      });
    }
    return this.cached.get(name);
  }

  private metric(family: NativeFamily): PromClientMetric {
    const { name, help, type } = family;
    const current = (n: string): NativeFamily | undefined => this.current(n);
    return {
      // prom-client renames a counter (drops `_total`) when its registry speaks OpenMetrics.
      name,
      help,
      type,
      aggregator: "sum",
      async get() {
        const values = (current(name)?.values ?? []).map((v) => ({
          ...(v.metricName === name ? {} : { metricName: v.metricName }),
          labels: Object.fromEntries(v.labels as [string, string][]),
          value: v.value,
        }));
        return { name: this.name, help, type, aggregator: "sum" as const, values };
      },
      reset() {
        // The values belong to the watchdog; a registry reset leaves them be.
      },
    };
  }
}
