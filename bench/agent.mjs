// make bench-agent: what `mw agent` costs beside a pod. Idle (an empty artifact directory,
// scanned every 2 s, for 60 s): resident memory and CPU time. Upload: a 1 GiB file to moto's
// S3 server: time, and the agent's peak resident memory (bounded by the parts in flight,
// whatever the file size). Writes docs/benchmarks-agent.md.
import { execFileSync } from "node:child_process";
import { openSync, closeSync, writeSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { randomFillSync } from "node:crypto";
import { cpus } from "node:os";
import { join } from "node:path";
import { tempDir } from "../packages/core/test/helpers.mjs";
import { MW, REPO, S3_ENV, startAgent, startS3, stopAll } from "../tests/agent/services.mjs";

const status = (pid) => Object.fromEntries(
  readFileSync(`/proc/${pid}/status`, "utf8").split("\n").filter((l) => l.includes(":")).map((l) => {
    const [k, v] = l.split(":");
    return [k.trim(), v.trim()];
  }),
);
const kib = (v) => Number(v.split(/\s+/)[0]) * 1024;
const cpuSeconds = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 1/100 s
};
const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;

try {
  // Idle.
  const idleDir = tempDir("mw-bench-agent-");
  const idle = await startAgent(["--dir", idleDir, "--pod", "bench"], {});
  const cpu0 = cpuSeconds(idle.proc.pid);
  await new Promise((r) => setTimeout(r, 60_000));
  const idleStatus = status(idle.proc.pid);
  const idleCpu = cpuSeconds(idle.proc.pid) - cpu0;
  await idle.stop();

  // Upload of 1 GiB.
  const s3 = await startS3();
  const dir = tempDir("mw-bench-agent-up-");
  const name = "bench-1-2026-12-05T10-00-00.000Z-baseline.heapsnapshot";
  const fd = openSync(join(dir, name), "w");
  const chunk = Buffer.alloc(16 << 20);
  for (let i = 0; i < 64; i++) writeSync(fd, randomFillSync(chunk));
  closeSync(fd);
  const up = await startAgent(
    ["--dir", dir, "--store", "s3://fleet", "--endpoint", s3.url, "--namespace", "bench", "--pod", "bench", "--no-analyze", "--settle", "1s", "--poll", "500ms"],
    S3_ENV,
  );
  const line = await up.waitLine((l) => l.msg === "uploaded", 600_000, "the 1 GiB upload");
  const upStatus = status(up.proc.pid);
  await up.stop();
  s3.stop();

  const version = execFileSync(MW, ["--version"], { encoding: "utf8" }).trim();
  const moto = execFileSync("python3", ["-c", "import moto; print(moto.__version__)"], { encoding: "utf8" }).trim();
  const rows = [
    `| idle: empty directory, scanned every 2 s, 60 s | resident ${mib(kib(idleStatus.VmRSS))} (peak ${mib(kib(idleStatus.VmHWM))}) | CPU ${idleCpu.toFixed(2)} s in 60 s |`,
    `| upload of 1 GiB (random bytes) to moto, 16 MiB parts, 2 in flight | peak resident ${mib(kib(upStatus.VmHWM))} | ${line.seconds.toFixed(1)} s, ${line.parts} parts (${(1024 / line.seconds).toFixed(0)} MiB/s, moto-bound) |`,
  ];
  const doc = `# Benchmarks: \`mw agent\`

What the sidecar costs beside a pod (\`make bench-agent\`, \`bench/agent.mjs\`). Machine: ${cpus().length} cores
(${cpus()[0].model}); ${version}; moto ${moto} (its S3 server, in memory, on the same machine: the upload
rate is moto's, not the agent's). The analysis of a pair costs what \`mw analyze\` costs
([benchmarks.md](benchmarks.md): 1 GB set, 5.6 s, 1.03 GiB peak), in a child process.

| case | memory | time |
|---|---|---|
${rows.join("\n")}

Recorded ${new Date().toISOString().slice(0, 10)}.
`;
  writeFileSync(join(REPO, "docs", "benchmarks-agent.md"), doc);
  process.stdout.write(doc);
} finally {
  stopAll();
}
