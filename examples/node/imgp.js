'use strict';
// imgp.js — run the imgp pipeline for one turn from a Node.js game server.
// Standard library only.  Each call spawns the four stages connected by
// pipes (as a shell would), writes one record, and resolves with the one
// record that comes out; an error record is thrown as an ImgpError.
//
//   const { renderTurn } = require('./imgp');
//   const rec = await renderTurn(
//     { session: 'game-7', turn: 3, image_prompt: 'The harbor at night' },
//     { profile: 'world.json', store: '/srv/imgp', base: '/assets/' });
//   sendToPlayers(rec.url);

const { spawn } = require('node:child_process');
const readline = require('node:readline');

class ImgpError extends Error {
  constructor(error, record) {
    super(`imgp-${error.stage}: ${error.code}: ${error.message}`);
    this.name = 'ImgpError';
    this.stage = error.stage;
    this.code = error.code;
    this.retryable = Boolean(error.retryable);
    this.record = record;  // the whole record, payload kept for a re-run
  }
}

// The command lines of the stages for `opts`.
function stages(opts) {
  const enrich = ['imgp-enrich'];
  if (opts.profile) enrich.push('--profile', opts.profile);
  if (opts.store) enrich.push('--store', opts.store);
  if (opts.referencePrevious) enrich.push('--reference', 'previous');
  const gen = ['imgp-gen', '--api', opts.api || 'openrouter'];
  if (opts.store) gen.push('--store', opts.store);
  if (opts.onFailure) gen.push('--on-failure', opts.onFailure);
  const store = ['imgp-store'];
  if (opts.store) store.push('--store', opts.store);
  const url = ['imgp-url'];
  if (opts.base) url.push('--base', opts.base);
  return [enrich, gen, store, url];
}

// Run the pipeline on one record; resolves with the output record.
function renderTurn(record, opts = {}) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...(opts.env || {}) };
    if (opts.binDir) env.PATH = `${opts.binDir}:${env.PATH}`;
    const procs = [];
    let stderr = '';
    for (const [cmd, ...args] of stages(opts)) {
      const stdin = procs.length ? procs[procs.length - 1].stdout : 'pipe';
      const p = spawn(cmd, args, { env, stdio: [stdin, 'pipe', 'pipe'] });
      p.stderr.on('data', (d) => { stderr += d; });
      p.on('error', reject);  // not installed, not executable
      procs.push(p);
    }
    const last = procs[procs.length - 1];
    let answer = null;
    readline.createInterface({ input: last.stdout }).on('line', (line) => {
      if (answer === null && line.trim() !== '') answer = line;
    });
    // Done when every stage has exited and the last one's output has
    // been read ('close' never comes for a stage whose stdout was handed
    // to the next one, so count 'exit').
    let pending = procs.length + 1;
    const settle = () => {
      if (--pending > 0) return;
      if (answer === null) {
        reject(new Error(`imgp pipeline gave no record: ${stderr.trim()}`));
        return;
      }
      const out = JSON.parse(answer);
      if (out.error) reject(new ImgpError(out.error, out));
      else resolve(out);
    };
    for (const p of procs) p.on('exit', settle);
    last.stdout.on('end', settle);
    procs[0].stdin.end(JSON.stringify(record) + '\n');
  });
}

module.exports = { renderTurn, ImgpError };
