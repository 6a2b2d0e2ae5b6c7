// The tree the extension shows, built from an `mw analyze --json` report (docs/cli.md, schema
// version 1): leak suspects with their retainer path hops, or allocation sites with their frames.
// No vscode import.
import { SourceLocation, formatLocation } from './location';

/** One row of the tree. */
export interface TreeItemModel {
  label: string;
  description?: string;
  tooltip?: string;
  /** Where "go to source" goes (1-based, as the report has it). */
  location?: SourceLocation;
  /** Theme icon id (codicon). */
  icon?: string;
  children: TreeItemModel[];
  /** Open on first show. */
  expanded?: boolean;
}

export interface ReportModel {
  kind: 'snapshots' | 'heapprofile';
  /** One line: the top suspect or site and its growth, or that nothing grew. */
  verdict: string;
  roots: TreeItemModel[];
}

export class ReportError extends Error {
  override name = 'ReportError';
}

/** `1.5 MB`, `+312.0 kB`: decimal units, as mw prints them. */
export function formatBytes(n: number, signed = false): string {
  const sign = signed && n > 0 ? '+' : n < 0 ? '-' : '';
  let v = Math.abs(n);
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${sign}${u === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

const count = (n: number) => n.toLocaleString('en-US');

/* Shapes of the report, as far as the tree reads them. */
interface Step { edge: string; edge_type: string; class_name: string; name: string; node_type: string; id: number }
interface FunctionInfo { name: string; file: string; line: number | null; column: number | null; original?: Original }
interface Original { url: string; line: number | null; column: number | null }
interface Suspect {
  rank: number; delta_bytes: number; delta_count: number; retained_bytes: number; class_name: string;
  path: Step[]; path_text: string; example_id: number; function: FunctionInfo | null;
  holds?: { class_name: string; count: number; bytes: number }[];
}
interface Frame { function: string; url: string; line: number | null; column: number | null; kind: string; original?: Original }
interface Site { rank: number; delta_bytes: number; delta_samples: number | null; frames: Frame[]; user_frame: number | null; site: string }
interface FunctionRow { rank: number; delta_bytes: number; delta_samples: number | null; function: Frame; stacks: number }
interface Constructor { class_name: string; delta_count: number; delta_bytes: number }

function located(file: string, line: number | null, column: number | null): SourceLocation | undefined {
  if (file === '' || line === null || line < 1) return undefined;
  return { file, line, column: column !== null && column >= 1 ? column : null };
}

/** The position to go to: the original source's when a source map gave one, else the script's. */
function bestLocation(file: string, line: number | null, column: number | null, original?: Original): SourceLocation | undefined {
  return (original && located(original.url, original.line, original.column)) ?? located(file, line, column);
}

function suspectItem(s: Suspect, first: boolean): TreeItemModel {
  const children: TreeItemModel[] = s.path.map((step, i) => ({
    label: `${step.edge}`,
    description: `${step.class_name} @${step.id}${step.edge_type ? ` · ${step.edge_type}` : ''}`,
    tooltip: `hop ${i + 1} of ${s.path.length}: ${step.edge} (${step.edge_type}) → ${step.name} @${step.id}`,
    icon: i === s.path.length - 1 ? 'symbol-class' : 'arrow-small-right',
    children: [],
  }));
  if (s.function) {
    const loc = bestLocation(s.function.file, s.function.line, s.function.column, s.function.original);
    children.push({
      label: `function ${s.function.name || '(anonymous)'}`,
      description: loc ? formatLocation(loc) : s.function.file || 'location unknown',
      tooltip: loc ? `Go to ${formatLocation(loc)}` : undefined,
      location: loc,
      icon: 'symbol-function',
      children: [],
    });
  }
  for (const h of s.holds ?? []) {
    children.push({ label: `holds ${h.class_name}`, description: `×${count(h.count)} ${formatBytes(h.bytes)}`, icon: 'package', children: [] });
  }
  return {
    label: `#${s.rank} ${s.class_name}`,
    description: `${formatBytes(s.delta_bytes, true)} ×${count(s.delta_count)}`,
    tooltip: `${s.path_text}\nretained ${formatBytes(s.retained_bytes)}; example @${s.example_id}`,
    icon: 'warning',
    expanded: first,
    children,
  };
}

function frameItem(f: Frame, marked: boolean): TreeItemModel {
  const loc = bestLocation(f.url, f.line, f.column, f.original);
  return {
    label: f.function,
    description: loc ? formatLocation(loc) : f.url || f.kind,
    tooltip: loc ? `Go to ${formatLocation(loc)}` : `${f.kind} frame`,
    location: loc,
    icon: marked ? 'debug-stackframe-focused' : 'debug-stackframe',
    children: [],
  };
}

function snapshotModel(report: { suspects: Suspect[]; constructors: Constructor[]; new_bytes: number; new_objects: number }): ReportModel {
  const top = report.suspects[0];
  const verdict = top
    ? `Top suspect: ${top.class_name} ${formatBytes(top.delta_bytes, true)} ×${count(top.delta_count)} via ${top.path_text}`
    : `No leak suspects: ${count(report.new_objects)} new objects (${formatBytes(report.new_bytes)}) and nothing grew as a group.`;
  return {
    kind: 'snapshots',
    verdict,
    roots: [
      {
        label: 'Leak suspects',
        description: `${report.suspects.length}`,
        icon: 'search',
        expanded: true,
        children: report.suspects.map((s, i) => suspectItem(s, i === 0)),
      },
      {
        label: 'Constructors',
        description: `${report.constructors.length}`,
        icon: 'symbol-class',
        children: report.constructors.map((c) => ({
          label: c.class_name,
          description: `${formatBytes(c.delta_bytes, true)} ${c.delta_count > 0 ? '+' : ''}${count(c.delta_count)}`,
          icon: 'symbol-class',
          children: [],
        })),
      },
    ],
  };
}

function profileModel(report: { sites: Site[]; functions: FunctionRow[]; growth_bytes: number }): ReportModel {
  const top = report.sites[0];
  const verdict = top
    ? `Top allocation site: ${top.site} ${formatBytes(top.delta_bytes, true)} (live sampled bytes ${formatBytes(report.growth_bytes, true)})`
    : `No allocation site grew (live sampled bytes ${formatBytes(report.growth_bytes, true)}).`;
  return {
    kind: 'heapprofile',
    verdict,
    roots: [
      {
        label: 'Allocation sites',
        description: `${report.sites.length}`,
        icon: 'flame',
        expanded: true,
        children: report.sites.map((s, i) => ({
          label: `#${s.rank} ${s.site}`,
          description: `${formatBytes(s.delta_bytes, true)}${s.delta_samples !== null ? ` ${s.delta_samples > 0 ? '+' : ''}${count(s.delta_samples)} samples` : ''}`,
          tooltip: s.frames.map((f) => f.function).join(' < '),
          icon: 'flame',
          expanded: i === 0,
          location: s.user_frame !== null ? frameItem(s.frames[s.user_frame], true).location : undefined,
          children: s.frames.map((f, j) => frameItem(f, j === s.user_frame)),
        })),
      },
      {
        label: 'Functions',
        description: `${report.functions.length}`,
        icon: 'symbol-function',
        children: report.functions.map((f) => {
          const item = frameItem(f.function, true);
          return { ...item, label: `#${f.rank} ${f.function.function}`, description: `${formatBytes(f.delta_bytes, true)} in ${f.stacks} stack${f.stacks === 1 ? '' : 's'} · ${item.description}` };
        }),
      },
    ],
  };
}

/**
 * The tree of a report: the parsed `mw analyze --json` output of two or three snapshots or heap
 * profiles. Throws a ReportError saying what the text is when it is not such a report.
 */
export function reportModel(json: unknown): ReportModel {
  if (typeof json !== 'object' || json === null || !('schema_version' in json)) {
    throw new ReportError('Not an mw analyze --json report (no schema_version).');
  }
  const r = json as Record<string, unknown>;
  if (r.schema_version !== 1) {
    throw new ReportError(`Report schema version ${String(r.schema_version)} is not supported (this extension reads version 1); update the extension.`);
  }
  if (r.kind === 'heapprofile' && Array.isArray(r.sites) && Array.isArray(r.functions)) {
    return profileModel(r as unknown as Parameters<typeof profileModel>[0]);
  }
  if (r.kind === undefined && Array.isArray(r.suspects) && Array.isArray(r.constructors)) {
    return snapshotModel(r as unknown as Parameters<typeof snapshotModel>[0]);
  }
  throw new ReportError(
    `This report (kind ${JSON.stringify(r.kind ?? null)}) is not a comparison: the extension shows reports of two or three heap snapshots or heap profiles. Open it as text, or analyze a pair.`,
  );
}

/** Parses report text (what `mw analyze --json` printed or a saved .json file) into the tree. */
export function parseReport(text: string): ReportModel {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ReportError(`Not JSON: ${(e as Error).message}`);
  }
  return reportModel(json);
}
