#!/usr/bin/env node
/**
 * Generates, from options.table.mjs, `src/cjs/options.generated.ts` (the option interfaces
 * with their docs, the table the parser reads, `ENV_VARS`) and the options table in
 * README.md. `--check`: write nothing, exit 1 naming what is stale (the test suite runs this).
 *
 *   node scripts/options.mjs [--check]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { OPTIONS, SECTIONS } from "../options.table.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const GENERATED = join(ROOT, "src", "cjs", "options.generated.ts");
const README = join(ROOT, "README.md");
const BEGIN = "<!-- options table: generated from options.table.mjs by scripts/options.mjs; edit the table, not this -->";
const END = "<!-- end of options table -->";

const TS_TYPES = {
  number: "number",
  bytes: "number | string",
  port: "number | false",
  bool: "boolean",
  string: "string",
  path: "string",
  url: "string",
  detector: "Record<string, unknown> | string",
  label: "string | false",
  labels: "Record<string, string> | string",
  registry: "PromClientRegistry",
  logger: "((line: string) => void) | false",
  env: "Record<string, string | undefined> | false",
};

/** How the docs show an option's default. */
function defaultText(o) {
  if (o.defaultDoc !== undefined) return o.defaultDoc;
  if (o.default === undefined) return "none";
  return "`" + String(o.default) + "`";
}

function jsdoc(lines, indent) {
  const body = lines.flatMap((l) => wrap(l, 100 - indent.length - 3));
  return [`${indent}/**`, ...body.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)), `${indent} */`].join("\n");
}

function wrap(text, width) {
  if (text === "") return [""];
  const out = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  out.push(line);
  return out;
}

/** The doc comment of an option: its doc line, then default and variable. */
function optionDoc(o, indent) {
  const facts = [`Default: ${defaultText(o)}.`];
  if (o.env) facts.push(`Variable: \`${o.env}\`.`);
  return jsdoc([o.doc, "", facts.join(" ")], indent);
}

/** The spec the parser reads: everything but the docs. */
function spec(o) {
  const { doc: _doc, defaultDoc: _defaultDoc, ...rest } = o;
  return rest;
}

function generateTs() {
  const parts = [
    "// Generated from options.table.mjs by scripts/options.mjs (run by `npm run build`): edit the",
    "// table, not this file. A test fails when this file is stale.",
    "",
    'import type { OptionSpec } from "./option-spec.js";',
    'import type { PromClientRegistry } from "./prom-client.js";',
  ];
  for (const section of SECTIONS) {
    parts.push("", jsdoc([section.doc], ""), `export interface ${section.name} {`);
    for (const o of OPTIONS.filter((x) => x.key?.startsWith(`${section.key}.`))) {
      const name = o.key.slice(section.key.length + 1);
      parts.push(optionDoc(o, "  "), `  ${name}${o.required ? "" : "?"}: ${TS_TYPES[o.type]};`);
    }
    parts.push("}");
  }
  parts.push("", jsdoc(["Everything `MemWatchdog.start()` accepts. Every field is optional."], ""), "export interface MemWatchdogOptions {");
  for (const section of SECTIONS) {
    const doc = section.disable ? `${section.doc} \`false\`: ${section.disable}.` : section.doc;
    parts.push(jsdoc([doc], "  "), `  ${section.key}?: ${section.name}${section.disable ? " | false" : ""};`);
  }
  for (const o of OPTIONS.filter((x) => x.key && !x.key.includes("."))) {
    parts.push(optionDoc(o, "  "), `  ${o.key}?: ${TS_TYPES[o.type]};`);
  }
  parts.push("}");
  const table = OPTIONS.map((o) => `  ${JSON.stringify(o.key ?? o.env)}: ${JSON.stringify(spec(o))},`);
  parts.push(
    "",
    "/** Each option and variable, by key path (or by variable when it has no option): what the parser checks. */",
    "export const OPTIONS = {",
    ...table,
    "} as const satisfies Record<string, OptionSpec>;",
    "",
    "/** The groups of options; `disable`: the group may be `false`. */",
    `export const SECTIONS = ${JSON.stringify(SECTIONS.map((s) => ({ key: s.key, disable: s.disable !== undefined })))} as const;`,
    "",
    "/** Every environment variable read. */",
    "export const ENV_VARS = [",
    ...OPTIONS.filter((o) => o.env).map((o) => `  ${JSON.stringify(o.env)},`),
    "] as const;",
    "",
  );
  return parts.join("\n");
}

function generateReadme(current) {
  const cell = (s) => s.replaceAll("|", "\\|");
  const rows = OPTIONS.map(
    (o) => `| ${o.key ? `\`${o.key}\`` : "—"} | ${o.env ? `\`${o.env}\`` : ""} | ${cell(defaultText(o))} | ${cell(o.doc)} |`,
  );
  const groups = SECTIONS.filter((s) => s.disable).map((s) => `\`${s.key}: false\` (${s.disable})`);
  const table = [
    BEGIN,
    "| option | variable | default | |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
    `Whole groups can be turned off: ${groups.join(", ")}.`,
    END,
  ].join("\n");
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no "${BEGIN}" ... "${END}" section to fill`);
  return current.slice(0, begin) + table + current.slice(end + END.length);
}

const check = process.argv.includes("--check");
const stale = [];
for (const [path, make] of [
  [GENERATED, () => generateTs()],
  [README, (current) => generateReadme(current)],
]) {
  let current = "";
  try {
    current = readFileSync(path, "utf8");
  } catch (err) {
    if (err.code !== "ENOENT") throw err;
  }
  const next = make(current);
  if (next === current) continue;
  if (check) stale.push(path);
  else writeFileSync(path, next);
}
if (stale.length) {
  console.error(`stale, generated from options.table.mjs: ${stale.join(", ")}; run \`node scripts/options.mjs\` in packages/core`);
  process.exit(1);
}
