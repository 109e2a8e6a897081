#!/usr/bin/env node
'use strict';
// latency.js — per-record latency through one running pipeline, for
// bench/unordered.sh.  Writes the records of two sessions into
// `sh -c PIPELINE` at a steady pace (one slow-session record every
// SLOW_EVERY ms, one fast-session record every FAST_EVERY ms, for
// SECONDS), reads the output, and prints the fast session's p50 and p99
// latency in ms (write to read), after checking every record came out once.
const { spawn } = require('node:child_process');

const [pipeline, slowPrompt, fastPrompt] = process.argv.slice(2);
const SECONDS = Number(process.env.SECONDS_RUN || 10);
const SLOW_EVERY = 1000, FAST_EVERY = 100;

const child = spawn('sh', ['-c', pipeline], { stdio: ['pipe', 'pipe', 'inherit'] });
const sent = new Map();
const fast = [];
let pending = '';
let seen = 0;
child.stdout.setEncoding('utf8');
child.stdout.on('data', (d) => {
  pending += d;
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const rec = JSON.parse(pending.slice(0, nl));
    pending = pending.slice(nl + 1);
    const key = `${rec.session}/${rec.turn}`;
    if (!sent.has(key) || !rec.url) throw new Error(`unexpected output: ${key} ${JSON.stringify(rec.error)}`);
    if (rec.session === 'fast') fast.push(Number(process.hrtime.bigint() - sent.get(key)) / 1e6);
    sent.delete(key);
    seen++;
  }
});
child.on('exit', (code) => {
  if (sent.size) throw new Error(`${sent.size} records never came out`);
  fast.sort((a, b) => a - b);
  const q = (p) => fast[Math.min(fast.length - 1, Math.floor(p * fast.length))];
  console.log(`${q(0.5).toFixed(0)} ${q(0.99).toFixed(0)} ${seen} ${code}`);
});

function send(session, turn, prompt) {
  sent.set(`${session}/${turn}`, process.hrtime.bigint());
  child.stdin.write(JSON.stringify({ session, turn, image_prompt: `${prompt} ${turn}` }) + '\n');
}
let slowTurn = 0, fastTurn = 0;
const start = Date.now();
const slowTimer = setInterval(() => send('slow', slowTurn++, slowPrompt), SLOW_EVERY);
const fastTimer = setInterval(() => send('fast', fastTurn++, fastPrompt), FAST_EVERY);
send('slow', slowTurn++, slowPrompt);
setTimeout(() => {
  clearInterval(slowTimer);
  clearInterval(fastTimer);
  child.stdin.end();
}, SECONDS * 1000 - (Date.now() - start));
