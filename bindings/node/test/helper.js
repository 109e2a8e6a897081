'use strict';
// Shared by the tests: the repository's tools, a temporary directory, the
// mock provider (tests/mock-provider.py on 127.0.0.1), waiting for events.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'bin');

function tmpdir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgp-node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Resolves when check() is true, polling every 10 ms; rejects after
// `seconds` so that a broken test ends instead of hanging.
async function until(check, what, seconds = 60) {
  const end = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// The mock provider for test `t`: { url, log(), key }; stopped after t.
async function mock(t) {
  const dir = tmpdir(t);
  const portFile = path.join(dir, 'port');
  const logFile = path.join(dir, 'log');
  const key = 'sk-node-test-0123456789';
  const child = spawn('python3', [path.join(ROOT, 'tests', 'mock-provider.py'),
    '--port-file', portFile, '--log', logFile, '--key', key, '--max-seconds', '300'],
  { stdio: 'ignore' });
  t.after(() => child.kill());
  await until(() => fs.existsSync(portFile), 'the mock provider');
  const port = fs.readFileSync(portFile, 'utf8').trim();
  return {
    url: `http://127.0.0.1:${port}/v1`,
    key,
    // the requests logged so far, each as { prompt text, entry }
    log() {
      if (!fs.existsSync(logFile)) return [];
      return fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean)
        .map((l) => JSON.parse(l));
    },
    // how many logged requests have a prompt that starts with `text`
    // (later turns carry earlier prompts in their history, further in)
    count(text) {
      const start = JSON.stringify({ text }).slice(1, -2);  // "text":"<text>
      return this.log().filter((e) => JSON.stringify(e.body).includes(start)).length;
    },
  };
}

// A pending promise's state, without waiting for it.
function track(promise) {
  const state = { settled: false };
  promise.then(() => { state.settled = true; }, () => { state.settled = true; });
  return state;
}

module.exports = { ROOT, BIN, tmpdir, until, mock, track };
