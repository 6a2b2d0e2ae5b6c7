#!/usr/bin/env node
// Packs the npm packages into target/dist/npm/*.tgz: @memwatchdog/core and @memwatchdog/cli,
// each staged with `optionalDependencies` on its per-platform packages (the napi-rs /
// esbuild pattern: npm installs the one whose os, cpu and libc match), and every
// per-platform package whose binary is present (packages/core/npm/<platform>/*.node,
// packages/cli/npm/<platform>/bin/mw[.exe]: put there by scripts/dist/build.sh here, by
// the release workflow's artifacts step for the rest). The source package.json files carry
// no optionalDependencies, so `npm ci` in the repository never looks for them.
//
//   node scripts/dist/pack.mjs [--all]     --all: every platform's binary must be present
//
// Writes target/dist/npm/packed.json: [{ name, dir, file, size, unpackedSize }].
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const out = join(root, "target/dist/npm");
const stage = join(root, "target/dist/stage");
const all = process.argv.includes("--all");
const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));

function npm(args, cwd) {
  return execFileSync("npm", [...args, "--loglevel=error"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

/** Packs DIR into target/dist/npm; returns what npm says about the tarball. */
function pack(dir) {
  const [info] = JSON.parse(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", out], dir));
  return { name: info.name, dir, file: join(out, info.filename), size: info.size, unpackedSize: info.unpackedSize };
}

/** The per-platform packages of the package in PKGDIR: { platform, dir, json, binary }. */
function platforms(pkgDir) {
  const npmDir = join(pkgDir, "npm");
  return readdirSync(npmDir).sort().map((platform) => {
    const dir = join(npmDir, platform);
    const json = readJson(join(dir, "package.json"));
    return { platform, dir, json, binary: json.files.every((f) => existsSync(join(dir, f))) };
  });
}

/** Copies what `npm pack` would publish from PKGDIR into the stage, adds optionalDependencies. */
function staged(pkgDir, optional) {
  const json = readJson(join(pkgDir, "package.json"));
  const dest = join(stage, json.name.replace("/", "+"));
  rmSync(dest, { recursive: true, force: true });
  const [info] = JSON.parse(npm(["pack", "--dry-run", "--json", "--ignore-scripts"], pkgDir));
  for (const { path } of info.files) {
    mkdirSync(dirname(join(dest, path)), { recursive: true });
    cpSync(join(pkgDir, path), join(dest, path));
  }
  json.optionalDependencies = Object.fromEntries(optional.map((p) => [p.json.name, p.json.version]));
  delete json.devDependencies;
  delete json.scripts;
  writeFileSync(join(dest, "package.json"), `${JSON.stringify(json, null, 2)}\n`);
  return dest;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const packed = [];
for (const pkgDir of ["packages/core", "packages/cli"].map((d) => join(root, d))) {
  const version = readJson(join(pkgDir, "package.json")).version;
  const plats = platforms(pkgDir);
  for (const p of plats) {
    if (p.json.version !== version) throw new Error(`${p.json.name} is ${p.json.version}, its main package ${version}`);
    if (!p.binary && all) throw new Error(`${p.json.name}: ${p.json.files.join(", ")} missing in ${p.dir}`);
  }
  packed.push(pack(staged(pkgDir, plats)));
  for (const p of plats.filter((p) => p.binary)) packed.push(pack(p.dir));
}
writeFileSync(join(out, "packed.json"), `${JSON.stringify(packed, null, 2)}\n`);
for (const p of packed) console.log(`${(p.size / 1e6).toFixed(2).padStart(6)} MB  ${p.file.slice(root.length + 1)}`);
