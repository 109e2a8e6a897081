#!/usr/bin/env node
'use strict';
// overhead.js STORE N CATBIN DISKSTORE — the per-render cost of the imgp
// package, for bench/node.sh: N renders one after the other (--api local
// drawing 8x8 pictures, so the provider answers at once; imgp-store
// --no-fsync) through one long-lived Pipeline; the same with the store in
// DISKSTORE; the same through a Pipeline whose four stages are cat(1)
// (CATBIN: the package and its pipes alone); the four stages spawned anew
// for each turn (N/10 of them); a plain in-process JSON round trip of the
// same record; the long-lived Pipeline with its store in DISKSTORE again,
// imgp-store crash-safe (its default: fsync).  Prints "p50 p99" in ms of
// each, on one line, in that order (the long-lived ones followed by their
// stages' CPU ms per render).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Pipeline } = require('../bindings/node');

const [store, n, catBin, diskStore] = [process.argv[2], Number(process.argv[3]), process.argv[4], process.argv[5]];
const bin = path.join(__dirname, '..', 'bin');
const args = { enrich: ['--size', '8x8'], store: ['--no-fsync'] };
const record = (i) => ({ session: `bench-${i % 8}`, turn: Math.floor(i / 8),
  image_prompt: `a harbour at dawn, turn ${i}`, new_state: { hp: i } });

function quantiles(ms) {
  ms.sort((a, b) => a - b);
  return [0.5, 0.99].map((p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(3));
}

async function timed(count, fn) {
  const ms = [];
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return quantiles(ms);
}

// The four stages for one turn, as examples/node did before the package.
function oneShot(rec, dir) {
  return new Promise((resolve, reject) => {
    const argv = [['imgp-enrich', '-s', dir, ...args.enrich], ['imgp-gen', '--api', 'local', '-s', dir],
      ['imgp-store', '-s', dir, ...args.store], ['imgp-url', '-b', '/assets/']];
    const procs = [];
    for (const [tool, ...a] of argv) {
      const stdin = procs.length ? procs[procs.length - 1].stdout : 'pipe';
      procs.push(spawn(path.join(bin, tool), a, { stdio: [stdin, 'pipe', 'inherit'] }));
    }
    let out = '';
    const last = procs[procs.length - 1];
    last.stdout.on('data', (d) => { out += d; });
    last.on('close', () => {
      try { const r = JSON.parse(out); if (!r.url) throw new Error(out); resolve(r); } catch (e) { reject(e); }
    });
    procs[0].stdin.end(JSON.stringify(rec) + '\n');
  });
}

// CPU time (user + system, ms) a process has used, from /proc.
function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 1000 / 100;  // USER_HZ
}

// p50, p99 and each stage's CPU time per render ("enrich/gen/store/url").
async function longLived(dir, stageArgs = args) {
  const pipeline = new Pipeline({ bin, api: 'local', store: dir, base: '/assets/', args: stageArgs });
  await timed(20, (i) => pipeline.render(record(100000 + i)));  // warm up
  const pids = Object.values(pipeline.pids());
  const before = pids.map(cpuMs);
  const q = await timed(n, (i) => pipeline.render(record(i)));
  const cpu = pids.map((pid, i) => ((cpuMs(pid) - before[i]) / n).toFixed(3));
  await pipeline.close();
  return [...q, cpu.join('/')];
}

async function main() {
  const long = await longLived(path.join(store, 'long'));
  const disk = await longLived(diskStore);
  const synced = await longLived(`${diskStore}-fsync`, { ...args, store: [] });
  const cats = new Pipeline({ bin: catBin });
  await timed(20, (i) => cats.render(record(100000 + i)));
  const piped = await timed(n, (i) => cats.render(record(i)));
  await cats.close();
  const once = await timed(Math.ceil(n / 10), (i) => oneShot(record(i), path.join(store, 'once')));
  let sink = 0;
  const json = await timed(n, (i) => {
    const text = JSON.stringify(record(i));
    sink += JSON.parse(text).turn;
  });
  if (sink < 0) throw new Error('unreachable: keeps the round trip from being optimised away');
  console.log([...long, ...piped, ...once, ...json, ...disk, ...synced].join(' '));
}
main().catch((e) => { console.error(e); process.exit(1); });
