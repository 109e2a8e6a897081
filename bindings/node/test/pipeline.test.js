'use strict';
// The imgp package against the real tools (bin/), with --api local and
// with the mock provider.  No timed assertions: every wait is for an event.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const test = require('node:test');

const { Pipeline, ImgpError, ID_MEMBER } = require('imgp');
const { BIN, tmpdir, until, mock, track } = require('./helper');

function local(t, options = {}) {
  const p = new Pipeline({ bin: BIN, api: 'local', store: path.join(tmpdir(t), 'store'),
    base: '/assets/', ...options });
  t.after(() => p.close());
  return p;
}

const turn = (session, n, prompt) => ({ session, turn: n, image_prompt: prompt });

test('render resolves with the output record; many sessions share one pipeline', async (t) => {
  const p = local(t, { jobs: 4 });
  const pids = p.pids();
  const records = [];
  for (let s = 0; s < 5; s++)
    for (let n = 0; n < 4; n++) records.push(turn(`game-${s}`, n, `harbour ${s} at turn ${n}`));
  const out = await Promise.all(records.map((r) => p.render(r)));
  out.forEach((o, i) => {
    assert.equal(o.session, records[i].session);
    assert.equal(o.turn, records[i].turn);
    assert.match(o.url, /^\/assets\/[0-9a-f]{2}\/[0-9a-f]{64}\.png$/);
    assert.equal(o.asset.mime, 'image/png');
    assert.equal(ID_MEMBER in o, false);
  });
  assert.equal(new Set(out.map((o) => o.url)).size, records.length);
  assert.deepEqual(p.pids(), pids, 'the stages were started once');
  assert.equal(p.restarts, 0);
});

test('renderLine: the id member comes off byte for byte, the rest as the stages wrote it', async (t) => {
  const store = path.join(tmpdir(t), 'store');
  const p = local(t, { store });
  const line = '{"session":"exact","turn":0,"image_prompt":"a cove","big":12345678901234567890,"x":1.10,"u":"\\u00e9"}';
  const out = await p.renderLine(line);
  assert.ok(out.startsWith(line.slice(0, -1) + ',"request":'), out);
  assert.equal(out.includes(ID_MEMBER), false);
  // nor does the journal keep it among the judge's members
  const journal = fs.readFileSync(path.join(store, 'sessions', 'exact.ndjson'), 'utf8');
  assert.deepEqual(Object.keys(JSON.parse(journal).judge), ['session', 'turn', 'image_prompt', 'big', 'x', 'u']);
  const empty = await p.renderLine('{ }').catch((e) => e);
  assert.ok(empty instanceof ImgpError);
  assert.equal(empty.record.error.code, 'missing_field');
  assert.equal(ID_MEMBER in empty.record, false);
});

test('the options reach the tools: a signed, expiring URL that imgp-url --verify accepts', async (t) => {
  const dir = tmpdir(t);
  const keyFile = path.join(dir, 'url.key');
  fs.writeFileSync(keyFile, 'node-test-signing-key-0123456789abcdef\n', { mode: 0o600 });
  const p = local(t, { base: 'https://cdn.example/assets/', sign: 'hmac', keyFile, expires: '1h',
    args: { enrich: ['--size', '16x8'] } });
  const out = await p.render(turn('signed', 0, 'a lighthouse'));
  assert.match(out.url, /^https:\/\/cdn\.example\/assets\/[0-9a-f]{2}\/[0-9a-f]{64}\.png\?expires=\d+&sig=/);
  assert.equal(out.asset.width, 16);
  const verify = spawnSync(path.join(BIN, 'imgp-url'), ['--verify', `--key-file=${keyFile}`],
    { input: out.url + '\n', encoding: 'utf8' });
  assert.equal(verify.stdout.trim(), 'ok');
});

test('an error record rejects with ImgpError: code, stage, retryable, record', async (t) => {
  const p = local(t);
  const e = await p.render(turn('../bad', 0, 'x')).then(() => null, (err) => err);
  assert.ok(e instanceof ImgpError);
  assert.equal(e.code, 'invalid_field');
  assert.equal(e.stage, 'enrich');
  assert.equal(e.retryable, false);
  assert.equal(e.record.session, '../bad');
  assert.equal(ID_MEMBER in e.record, false);
  assert.match(e.message, /^imgp-enrich: invalid_field: /);
  // a record imgp-enrich cannot read (a lone surrogate) is its bad_json
  const bad = await p.render(turn('s', 0, 'x\ud800')).then(() => null, (err) => err);
  assert.ok(bad instanceof ImgpError);
  assert.deepEqual([bad.code, bad.stage, bad.retryable], ['bad_json', 'enrich', false]);
  assert.equal(bad.record.raw.includes(ID_MEMBER), false);
  assert.equal(JSON.parse(bad.record.raw).session, 's');
  // and the pipeline goes on
  assert.match((await p.render(turn('good', 0, 'x'))).url, /^\/assets\//);
  assert.equal(p.restarts, 0);
});

test('what cannot go through is a TypeError, before anything is written', async (t) => {
  const p = local(t);
  await assert.rejects(p.render([1]), TypeError);
  await assert.rejects(p.render({ [ID_MEMBER]: 1, session: 'a' }), TypeError);
  await assert.rejects(p.renderLine('{"a":\n1}'), TypeError);
  await assert.rejects(p.renderLine('not json'), TypeError);
  assert.throws(() => new Pipeline({ bni: BIN }), /unknown option bni/);
});

test('no head-of-line blocking: a fast session resolves while an earlier slow one is held', async (t) => {
  const m = await mock(t);
  const release = path.join(tmpdir(t), 'release');
  const p = local(t, { api: 'openrouter', baseUrl: m.url, env: { IMGP_API_KEY: m.key } });
  const slow = p.render(turn('slow', 0, `[mock hold=${release}] a slow storm`));
  const slowState = track(slow);
  const fast = await p.render(turn('fast', 0, 'a quick sunrise'));
  assert.equal(fast.session, 'fast');
  assert.equal(slowState.settled, false, 'the slow render was not held back behind');
  fs.writeFileSync(release, '');
  assert.equal((await slow).session, 'slow');
});

test('kill -9 of imgp-gen with renders in flight: restarted, resent, none lost, none paid twice', async (t) => {
  const m = await mock(t);
  const release = path.join(tmpdir(t), 'release');
  const store = path.join(tmpdir(t), 'store');
  const p = local(t, { api: 'openrouter', baseUrl: m.url, env: { IMGP_API_KEY: m.key },
    cache: true, jobs: 4, store });
  const restarted = new Promise((r) => p.once('restart', r));
  // Turn 0 is held at the provider; turns 1-3 are answered (and cached)
  // and wait in imgp-gen behind it, as a session's turns keep their order.
  // (the directive at the end of a long prompt, past the cut that the
  // later turns' history keeps of it, so that it holds turn 0 alone)
  const slow = `${'a storm rolls over the harbour, '.repeat(12)}[mock hold=${release}]`;
  const renders = [p.render(turn('k', 0, slow))];
  for (let n = 1; n <= 3; n++) renders.push(p.render(turn('k', n, `kill fast ${n}`)));
  const cached = () => fs.existsSync(path.join(store, 'requests')) &&
    fs.readdirSync(path.join(store, 'requests')).flatMap((d) =>
      fs.readdirSync(path.join(store, 'requests', d))).filter((f) => /^[0-9a-f]{64}\.json$/.test(f)).length;
  await until(() => cached() === 3, 'the fast answers in the request cache');
  const gen = p.pids().gen;
  process.kill(gen, 'SIGKILL');
  const info = await restarted;
  assert.equal(info.stage, 'gen');
  assert.equal(info.resent, 4);
  assert.notEqual(p.pids().gen, gen);
  fs.writeFileSync(release, '');
  const out = await Promise.all(renders);
  assert.deepEqual(out.map((o) => o.turn), [0, 1, 2, 3]);
  for (const o of out) assert.match(o.url, /^\/assets\//);
  for (let n = 1; n <= 3; n++) {
    assert.equal(m.count(`kill fast ${n}`), 1, `turn ${n} was paid once`);
    assert.equal(out[n].image.cached, true);
  }
  assert.equal(p.restarts, 1);
});

test('backpressure: at most maxInFlight renders in the pipeline, the others wait', async (t) => {
  const m = await mock(t);
  const release = path.join(tmpdir(t), 'release');
  const p = local(t, { api: 'openrouter', baseUrl: m.url, env: { IMGP_API_KEY: m.key },
    maxInFlight: 2, jobs: 8 });
  const renders = [];
  for (let n = 0; n < 5; n++)
    renders.push(p.render(turn(`bp${n}`, 0, `[mock hold=${release}] pressure ${n}`)));
  assert.equal(p.inFlight, 2);
  assert.equal(p.queued, 3);
  fs.writeFileSync(release, '');
  const out = await Promise.all(renders);
  assert.equal(out.length, 5);
  const most = Math.max(...m.log().map((e) => e.in_flight));
  assert.ok(most <= 2, `${most} requests were in flight at once`);
});

// A pipeline whose imgp-store is test/fake-store.py around the real one.
function faulty(t) {
  const bin = tmpdir(t);
  for (const tool of ['imgp-enrich', 'imgp-gen', 'imgp-url'])
    fs.symlinkSync(path.join(BIN, tool), path.join(bin, tool));
  fs.symlinkSync(path.join(__dirname, 'fake-store.py'), path.join(bin, 'imgp-store'));
  return local(t, { bin, env: { REAL_STORE: path.join(BIN, 'imgp-store') } });
}

test('a stage writing garbage: that render rejects clearly, the others resolve, the pipeline goes on', async (t) => {
  const p = faulty(t);
  const [before, bad, truncated] = await Promise.allSettled([
    p.render(turn('g1', 0, 'a calm bay')),
    p.render(turn('g2', 0, 'GARBAGE in the bay')),
    p.render(turn('g3', 0, 'TRUNCATE the bay')),
  ]);
  assert.equal(before.status, 'fulfilled');
  for (const r of [bad, truncated]) {
    assert.equal(r.status, 'rejected');
    assert.ok(r.reason instanceof ImgpError);
    assert.equal(r.reason.stage, 'store');
    assert.equal(r.reason.retryable, true);
  }
  assert.match(bad.reason.message, /imgp-store wrote a line that belongs to no render: "garbage!"/);
  assert.equal(truncated.reason.code, 'bad_output');
  assert.equal(bad.reason.record.session, 'g2');
  assert.match((await p.render(turn('g4', 0, 'after the storm'))).url, /^\/assets\//);
});

test('a stage closing early: the render in flight rejects, the pipeline starts again', async (t) => {
  const p = faulty(t);
  assert.match((await p.render(turn('q1', 0, 'before'))).url, /^\/assets\//);
  const e = await p.render(turn('q2', 0, 'QUIT now')).then(() => null, (err) => err);
  assert.ok(e instanceof ImgpError);
  assert.equal(e.code, 'stage_failed');
  assert.match(e.message, /imgp-\w+ exited with status 0/);
  assert.match((await p.render(turn('q3', 0, 'after'))).url, /^\/assets\//);
  assert.equal(p.restarts, 1);
});

test('close() finishes every render asked for, then ends the stages', async (t) => {
  const p = local(t);
  const renders = [0, 1, 2].map((n) => p.render(turn('c', n, `closing ${n}`)));
  const pids = Object.values(p.pids());
  await p.close();
  assert.equal((await Promise.all(renders)).length, 3);
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/);
  await assert.rejects(p.render(turn('c', 3, 'late')), /closed/);
});

test('a stage that cannot start rejects every render with a setup error', async (t) => {
  const p = local(t, { profile: path.join(tmpdir(t), 'missing.json') });
  const e = await p.render(turn('s', 0, 'x')).then(() => null, (err) => err);
  assert.ok(e instanceof ImgpError);
  assert.equal(e.code, 'setup');
  assert.equal(e.stage, 'enrich');
  assert.match(e.message, /missing\.json/);
  await assert.rejects(p.render(turn('s', 1, 'y')), ImgpError);
});

test('a stage that crashes on every start is not restarted forever: its render rejects, then the pipeline gives up', async (t) => {
  const bin = tmpdir(t);
  for (const tool of ['imgp-enrich', 'imgp-store', 'imgp-url'])
    fs.symlinkSync(path.join(BIN, tool), path.join(bin, tool));
  fs.writeFileSync(path.join(bin, 'imgp-gen'), '#!/bin/sh\nkill -9 $$\n', { mode: 0o755 });
  const p = local(t, { bin });
  const restarts = [];
  p.on('restart', (info) => restarts.push(info));
  // the render goes in three times (maxResends 2), then gives up
  const e = await p.render(turn('crash', 0, 'x')).then(() => null, (err) => err);
  assert.ok(e instanceof ImgpError);
  assert.deepEqual([e.code, e.stage, e.retryable], ['stage_crashed', 'gen', true]);
  assert.match(e.message, /imgp-gen was killed by SIGKILL; this render was in flight/);
  assert.equal(restarts.length, 3);
  // and after five generations in a row that answered nothing, the pipeline
  const late = await p.render(turn('crash', 1, 'y')).then(() => null, (err) => err);
  assert.deepEqual([late.code, late.stage, late.retryable], ['setup', 'gen', false]);
  assert.match(late.message, /imgp-gen was killed by SIGKILL, 5 times in a row/);
  assert.equal(restarts.length, 5);
  await assert.rejects(p.render(turn('crash', 2, 'z')), /5 times in a row/);
});
