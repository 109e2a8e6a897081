#!/usr/bin/env node
'use strict';
// server.js — the image side of a game server: one long-lived imgp
// pipeline shared by every player, and a turn endpoint.
//
//   POST /turn  {"session":"game-7","turn":3,"image_prompt":"...", ...}
//     200 {"session":"game-7","turn":3,"url":"/assets/ab/ab12….png"}
//     422 the record was refused (not retryable), 503 try again later
//     (retryable), 400 the body is not a JSON object
//
// The judge's whole record is passed on, so its other members reach the
// profile's conditions.  Configuration from the environment: PORT (0 for
// any free port; the address is printed), IMGP_BIN (the tools' directory,
// else PATH), IMGP_STORE, IMGP_PROFILE, IMGP_API (local draws offline),
// IMGP_BASE (default /assets/, where nginx serves the store).
const http = require('node:http');
const { Pipeline, ImgpError } = require('imgp');

const MAX_BODY = 64 * 1024;

const pipeline = new Pipeline({
  bin: process.env.IMGP_BIN,
  store: process.env.IMGP_STORE,
  profile: process.env.IMGP_PROFILE,
  api: process.env.IMGP_API,
  base: process.env.IMGP_BASE || '/assets/',
  referencePrevious: true,
  cache: true,
});
pipeline.on('stderr', (stage, text) => process.stderr.write(text));

function reply(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
}

async function readRecord(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > MAX_BODY) throw new Error('the body is too large');
  }
  const record = JSON.parse(body);
  if (record === null || typeof record !== 'object' || Array.isArray(record))
    throw new Error('the body is not a JSON object');
  return record;
}

async function turn(req, res) {
  let record;
  try {
    record = await readRecord(req);
  } catch (e) {
    return reply(res, 400, { error: { code: 'bad_request', message: e.message } });
  }
  try {
    const out = await pipeline.render(record);
    return reply(res, 200, { session: out.session, turn: out.turn, url: out.url });
  } catch (e) {
    if (!(e instanceof ImgpError)) throw e;
    return reply(res, e.retryable ? 503 : 422,
      { error: { code: e.code, stage: e.stage, message: e.message } });
  }
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/turn')
    turn(req, res).catch((e) => reply(res, 500, { error: { code: 'internal', message: e.message } }));
  else
    reply(res, 404, { error: { code: 'not_found', message: 'POST /turn' } });
});

server.listen(Number(process.env.PORT || 8080), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});

// Stop taking turns, finish those asked for, then end the stages.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close();
    pipeline.close().then(() => process.exit(0));
  });
}
