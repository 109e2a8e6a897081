'use strict';
// imgp — one long-lived imgp pipeline for a Node.js server.
//
// new Pipeline(options) spawns the four stages once, wired with pipes as a
// shell would (imgp-enrich | imgp-gen --unordered | imgp-store | imgp-url);
// render(record) writes one line into it and resolves with the record that
// comes out for it.  Many renders from many sessions share the pipeline:
// imgp-gen --unordered writes each record as soon as it is done (a
// session's records in turn order), so answers are matched to renders by an
// id member this package puts first in the line and takes off again.  The
// stages copy every member they do not own byte for byte and keep its
// place, so the output line starts with exactly the text that was written.
//
// Standard library only.  See README.md and index.d.ts.

const { spawn } = require('node:child_process');
const { EventEmitter } = require('node:events');
const path = require('node:path');

const ID_MEMBER = '__imgp_render_id';
const ID_PREFIX = `{"${ID_MEMBER}":`;
const STAGES = ['enrich', 'gen', 'store', 'url'];
const STDERR_TAIL = 4096;
const BARREN_LIMIT = 5;      // restarts in a row without one answer, then give up

const DEFAULTS = {
  bin: undefined,            // directory of the imgp-* tools, else PATH
  profile: undefined,        // imgp-enrich --profile
  store: undefined,          // --store of imgp-enrich, imgp-gen, imgp-store
  api: undefined,            // imgp-gen --api
  baseUrl: undefined,        // imgp-gen --base-url
  model: undefined,          // imgp-gen --model
  apiKeyFile: undefined,     // imgp-gen --api-key-file
  referencePrevious: false,  // imgp-enrich --reference previous
  onFailure: undefined,      // imgp-gen --on-failure
  cache: false,              // imgp-gen --cache (a resent render is not paid twice)
  jobs: undefined,           // imgp-gen --jobs
  base: undefined,           // imgp-url --base
  sign: undefined,           // imgp-url --sign hmac|nginx
  keyFile: undefined,        // imgp-url --key-file
  expires: undefined,        // imgp-url --expires
  args: undefined,           // { enrich: [...], gen: [...], store: [...], url: [...] }
  env: undefined,            // added to process.env
  maxInFlight: 64,           // renders inside the pipeline at once; more wait
  maxResends: 2,             // times a render is resent after stages crashed
  drainTimeout: 60000,       // ms to let a faulty pipeline finish before kill -9
};

class ImgpError extends Error {
  // error: the record's `error` member; record: the whole output record.
  constructor(error, record) {
    super(`imgp-${error.stage}: ${error.code}: ${error.message}`);
    this.name = 'ImgpError';
    this.code = error.code;
    this.stage = error.stage;
    this.retryable = Boolean(error.retryable);
    this.record = record;
  }
}

// The line for `record` (an object, or the JSON text of one) with the id
// member first.  Throws TypeError for what cannot go through.
function idLine(record, id) {
  let text = record;
  if (typeof record !== 'string') {
    if (record === null || typeof record !== 'object' || Array.isArray(record))
      throw new TypeError('imgp: render() wants a record object or its JSON text');
    if (Object.prototype.hasOwnProperty.call(record, ID_MEMBER))
      throw new TypeError(`imgp: the record may not carry ${ID_MEMBER}`);
    text = JSON.stringify(record);
  } else {
    let parsed;
    try { parsed = JSON.parse(text); } catch (e) {
      throw new TypeError(`imgp: the record is not JSON: ${e.message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new TypeError('imgp: the record is not a JSON object');
    if (/[\n\r]/.test(text))
      throw new TypeError('imgp: the record must be on one line');
    if (text.includes(`"${ID_MEMBER}"`))
      throw new TypeError(`imgp: the record may not carry ${ID_MEMBER}`);
    text = text.trim();
  }
  const body = text.slice(1).trimStart();
  return ID_PREFIX + id + (body.startsWith('}') ? '' : ',') + body + '\n';
}

// [id, the line without the id member] for a line that starts with it,
// else null.
function takeId(line) {
  if (!line.startsWith(ID_PREFIX)) return null;
  let end = ID_PREFIX.length;
  while (end < line.length && line.charCodeAt(end) >= 48 && line.charCodeAt(end) <= 57)
    end++;
  if (end === ID_PREFIX.length || end - ID_PREFIX.length > 15) return null;
  const next = line[end];
  if (next !== ',' && next !== '}') return null;
  return [Number(line.slice(ID_PREFIX.length, end)),
    '{' + line.slice(next === ',' ? end + 1 : end)];
}

function excerpt(text) {
  const s = String(text).replace(/\s+/g, ' ').trim();
  return JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s);
}

function stageError(stage, code, message, retryable, record) {
  return new ImgpError({ stage, code, message, retryable }, record);
}

class Pipeline extends EventEmitter {
  constructor(options = {}) {
    super();
    for (const key of Object.keys(options))
      if (!(key in DEFAULTS)) throw new TypeError(`imgp: unknown option ${key}`);
    this.options = { ...DEFAULTS, ...options };
    this._argv = STAGES.map((stage) => this._command(stage));
    this._env = { ...process.env, ...(this.options.env || {}) };
    if (this.options.bin)
      this._env.PATH = `${this.options.bin}${path.delimiter}${this._env.PATH || ''}`;
    this._nextId = 1;
    this._queue = [];            // renders not yet written, in call order
    this._inflight = new Map();  // id → render, in the order written
    this._closing = null;        // close()'s promise
    this._failed = null;         // an error that makes every render fail
    this.restarts = 0;
    this._spawn();
  }

  // The command line of `stage`, in long options (`--name=value`, one
  // argument each, whatever the value starts with).
  _command(stage) {
    const o = this.options;
    const a = [];
    const opt = (name, value) => {
      if (value !== undefined && value !== null && value !== false)
        a.push(value === true ? `--${name}` : `--${name}=${value}`);
    };
    if (stage === 'enrich') {
      opt('profile', o.profile);
      opt('store', o.store);
      opt('reference', o.referencePrevious ? 'previous' : undefined);
    } else if (stage === 'gen') {
      opt('unordered', true);
      opt('jobs', o.jobs);
      opt('store', o.store);
      opt('api', o.api);
      opt('base-url', o.baseUrl);
      opt('model', o.model);
      opt('api-key-file', o.apiKeyFile);
      opt('on-failure', o.onFailure);
      opt('cache', Boolean(o.cache));
    } else if (stage === 'store') {
      opt('store', o.store);
    } else {
      opt('base', o.base);
      opt('sign', o.sign);
      opt('key-file', o.keyFile);
      opt('expires', o.expires);
    }
    const extra = (o.args && o.args[stage]) || [];
    const tool = `imgp-${stage}`;
    return [o.bin ? path.join(o.bin, tool) : tool, ...a, ...extra.map(String)];
  }

  // Start the stages: one generation of processes.
  _spawn() {
    const gen = { procs: [], running: 0, outEnded: false, ended: false,
      fault: null, answered: 0, timer: null };
    let stdin = 'pipe';
    for (const [i, stage] of STAGES.entries()) {
      const [cmd, ...args] = this._argv[i];
      let child;
      try {
        child = spawn(cmd, args, { env: this._env, stdio: [stdin, 'pipe', 'pipe'] });
      } catch (e) {
        child = null;
        this._fault(gen, stage, 'setup', `cannot start ${cmd}: ${e.message}`);
      }
      const proc = { stage, child, exited: !child, stderr: '', signal: null, killed: false };
      gen.procs.push(proc);
      if (!child) break;
      gen.running++;
      // The pipe between two stages is theirs: the parent's copy of the
      // read end is closed, or a writer would never see the reader die.
      if (i > 0) gen.procs[i - 1].child.stdout.destroy();
      stdin = child.stdout;
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d) => {
        proc.stderr = (proc.stderr + d).slice(-STDERR_TAIL);
        this.emit('stderr', stage, d);
      });
      child.on('error', (e) => {
        // not found, not executable: no 'exit' follows a failed spawn
        if (proc.exited) return;
        proc.exited = true;
        gen.running--;
        this._fault(gen, stage, 'setup', `cannot start ${cmd}: ${e.message}`);
        this._settleGeneration(gen);
      });
      child.on('exit', (code, signal) => {
        if (proc.exited) return;
        proc.exited = true;
        const report = () => {
          proc.signal = signal;
          gen.running--;
          const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
          const kind = signal ? 'crashed' : code === 2 && gen.answered === 0 ? 'setup' : 'exited';
          const why = proc.stderr.trim().split('\n').pop();
          const reason = `imgp-${stage} ${how}` + (why ? ` (${why})` : '');
          // Kept even when a downstream stage's clean exit, seen first,
          // ended the generation: that stage only saw its input end.
          if (signal ? !proc.killed : code !== 0) proc.failure = { stage, kind, reason };
          if (!gen.ended) this._fault(gen, stage, kind, reason, !signal && code === 0);
          this._settleGeneration(gen);
        };
        // 'exit' may come before the last of stderr, which says why, is read
        if (child.stderr.readableEnded || child.stderr.destroyed) report();
        else child.stderr.once('close', report);
      });
    }
    this._gen = gen;
    const first = gen.procs[0].child;
    const last = gen.procs[gen.procs.length - 1].child;
    if (first) {
      first.stdin.on('error', () => {});  // EPIPE: the exit says why
      gen.stdin = first.stdin;
    }
    if (last && gen.procs.length === STAGES.length) {
      let pending = '';
      last.stdout.setEncoding('utf8');
      last.stdout.on('data', (chunk) => {
        // Only the new chunk is searched: a line of megabytes (an image
        // kept with --keep-data) costs its length, not its square.
        let nl = chunk.indexOf('\n');
        if (nl < 0) {
          pending += chunk;
          return;
        }
        let line = pending + chunk.slice(0, nl);
        for (;;) {
          if (line.trim() !== '') this._onLine(gen, line);
          const start = nl + 1;
          nl = chunk.indexOf('\n', start);
          if (nl < 0) {
            pending = chunk.slice(start);
            return;
          }
          line = chunk.slice(start, nl);
        }
      });
      last.stdout.on('close', () => {
        if (pending.trim() !== '') this._onLine(gen, pending);
        gen.outEnded = true;
        this._settleGeneration(gen);
      });
    } else {
      gen.outEnded = true;
    }
    if (gen.running === 0) this._settleGeneration(gen);
    else this._pump();
  }

  // One line from imgp-url.
  _onLine(gen, line) {
    const taken = takeId(line);
    if (taken) {
      const job = this._inflight.get(taken[0]);
      if (job) {
        gen.answered++;
        this._settle(job, taken[1]);
      }
      return;
    }
    // A line that lost its id.  When a stage wrote garbage, the next one
    // made it a bad_json record whose `raw` may still name the render.
    let rec = null;
    try { rec = JSON.parse(line); } catch { /* not JSON: imgp-url's own output */ }
    const err = rec && typeof rec === 'object' && rec.error;
    const raw = err && err.code === 'bad_json' && typeof rec.raw === 'string' ? takeId(rec.raw) : null;
    const job = raw && this._inflight.get(raw[0]);
    if (job) {
      gen.answered++;
      this._inflight.delete(job.id);
      if (err.stage === STAGES[0]) {
        // imgp-enrich read the line this package wrote: the record itself
        // is not one imgp takes (a lone surrogate, nesting too deep).
        job.reject(new ImgpError(err, { ...rec, raw: raw[1] }));
      } else {
        const culprit = STAGES[STAGES.indexOf(err.stage) - 1] || err.stage;
        job.reject(stageError(culprit, 'bad_output', `imgp-${culprit} wrote a line ` +
          `that is not a record for this render: ${excerpt(rec.raw)}`, true, job.record));
      }
      this._pump();
      return;
    }
    const culprit = err && STAGES.includes(err.stage) && err.code === 'bad_json'
      ? STAGES[STAGES.indexOf(err.stage) - 1] || err.stage : 'url';
    this._fault(gen, culprit, 'garbage', `imgp-${culprit} wrote a line that ` +
      `belongs to no render: ${excerpt(err && rec.raw !== undefined ? rec.raw : line)}`);
  }

  _settle(job, text) {
    this._inflight.delete(job.id);
    let rec;
    try { rec = JSON.parse(text); } catch (e) {
      job.reject(stageError('url', 'bad_output', `the pipeline's output is not JSON: ${e.message}`, true, job.record));
      this._pump();
      return;
    }
    if (rec && typeof rec.error === 'object' && rec.error !== null)
      job.reject(new ImgpError(rec.error, rec));
    else job.resolve(job.raw ? text : rec);
    this._pump();
  }

  // Write queued renders while there is room.
  _pump() {
    const gen = this._gen;
    while (this._queue.length && this._inflight.size < this.options.maxInFlight &&
        !gen.fault && !gen.ended && gen.stdin) {
      const job = this._queue.shift();
      this._inflight.set(job.id, job);
      gen.stdin.write(job.line);
    }
    if (this._closing && !this._queue.length && !this._inflight.size && !gen.fault)
      this._end(gen);
  }

  // Something went wrong with generation `gen`: stop feeding it and let
  // it finish what it can (the renders it answers still resolve).
  _fault(gen, stage, kind, reason, cleanExit = false) {
    if (gen.fault) return;
    gen.fault = { stage, kind, reason, cleanExit };
    this._end(gen);
    gen.timer = setTimeout(() => {
      for (const p of gen.procs) {
        if (!p.exited) {
          p.killed = true;
          p.child.kill('SIGKILL');
        }
      }
      gen.fault.timedOut = true;
    }, this.options.drainTimeout);
    gen.timer.unref();
  }

  _end(gen) {
    if (gen.ended) return;
    gen.ended = true;
    if (gen.stdin) gen.stdin.end();
  }

  // A process exited or the output ended: when the whole generation is
  // over, settle what it left and start the next one.
  _settleGeneration(gen) {
    if (gen.running > 0 || !gen.outEnded || gen.settled) return;
    gen.settled = true;
    clearTimeout(gen.timer);
    const fault = gen.fault;
    const left = [...this._inflight.values()];
    this._inflight.clear();
    if (!fault && !left.length) {  // close() ended it
      this._closed();
      return;
    }
    // A stage killed by a signal (not by the drain timeout) is the cause,
    // whichever of its neighbours' exits was seen first.
    // A clean exit seen first is a consequence: then the stage furthest
    // up that failed is the cause.
    const killed = gen.procs.find((p) => p.signal && !p.killed);
    const failed = fault && fault.cleanExit && gen.procs.find((p) => p.failure);
    const f = killed ? { stage: killed.stage, kind: 'crashed', reason: `imgp-${killed.stage} was killed by ${killed.signal}` }
      : failed ? { ...failed.failure }
      : fault || { stage: 'url', kind: 'exited', reason: 'the pipeline ended early' };
    f.timedOut = fault && fault.timedOut;
    if (f.kind === 'setup') {
      this._fail(f.stage, f.reason, left);
      return;
    }
    const resend = [];
    for (const job of left) {
      if ((f.kind === 'crashed' || f.timedOut) && job.resends < this.options.maxResends) {
        job.resends++;
        resend.push(job);
      } else {
        job.reject(stageError(f.stage, f.kind === 'crashed' ? 'stage_crashed' : 'stage_failed',
          `${f.reason}; this render was in flight`, true, job.record));
      }
    }
    this._queue.unshift(...resend);
    this.restarts++;
    this.emit('restart', { stage: f.stage, reason: f.reason, resent: resend.length });
    if (this._closing && !this._queue.length) {
      this._closed();
      return;
    }
    // Stages that fail again and again before answering anything are not
    // started in a tight loop: each time later, and in the end given up.
    this._barren = gen.answered ? 0 : (this._barren || 0) + 1;
    if (this._barren >= BARREN_LIMIT) {
      this._fail(f.stage, `${f.reason}, ${this._barren} times in a row`, []);
      return;
    }
    if (this._barren > 1) setTimeout(() => this._spawn(), 50 * 2 ** this._barren);
    else this._spawn();
  }

  // The stages cannot run: every render, now and later, rejects.
  _fail(stage, why, left) {
    this._failed = stageError(stage, 'setup', why, false);
    for (const job of [...left, ...this._queue.splice(0)])
      job.reject(stageError(stage, 'setup', why, false, job.record));
    this._closed();
  }

  _closed() {
    this._gen.closed = true;
    if (this._closing) this._closing.resolve();
  }

  _submit(record, raw) {
    if (this._failed) return Promise.reject(this._failed);
    if (this._closing) return Promise.reject(new Error('imgp: the pipeline is closed'));
    const id = this._nextId++;
    let line;
    try { line = idLine(record, id); } catch (e) { return Promise.reject(e); }
    return new Promise((resolve, reject) => {
      this._queue.push({ id, line, record, raw, resolve, reject, resends: 0 });
      this._pump();
    });
  }

  // The output record of one input record (an object or its JSON text).
  render(record) {
    return this._submit(record, false);
  }

  // The same, for a JSON line in and the output line out, byte for byte
  // as the stages wrote it (numbers beyond 2^53 and all).
  renderLine(line) {
    return this._submit(line, true);
  }

  get inFlight() { return this._inflight.size; }
  get queued() { return this._queue.length; }

  // The process ids of the running stages, by stage name.
  pids() {
    const out = {};
    for (const p of this._gen.procs) if (p.child && !p.exited) out[p.stage] = p.child.pid;
    return out;
  }

  // Finish every render asked for, then end the stages.
  close() {
    if (!this._closing) {
      let resolve;
      const done = new Promise((r) => { resolve = r; });
      this._closing = { promise: done, resolve };
      if (this._gen.closed) resolve();
      else this._pump();
    }
    return this._closing.promise;
  }
}

module.exports = { Pipeline, ImgpError, ID_MEMBER };
