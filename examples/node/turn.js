#!/usr/bin/env node
'use strict';
// turn.js — render one turn, as a game server would, and print its URL.
//   node examples/node/turn.js SESSION TURN "image prompt" [--api local]
const path = require('node:path');
const { renderTurn, ImgpError } = require('./imgp');

async function main() {
  const [session, turn, prompt, ...rest] = process.argv.slice(2);
  if (!prompt) {
    console.error('usage: turn.js session turn image_prompt [--api api]');
    process.exit(2);
  }
  const apiAt = rest.indexOf('--api');
  const root = path.join(__dirname, '..', '..');
  try {
    const rec = await renderTurn(
      { session, turn: Number(turn), image_prompt: prompt },
      {
        api: apiAt >= 0 ? rest[apiAt + 1] : undefined,
        profile: path.join(root, 'examples', 'lighthouse.json'),
        store: process.env.IMGP_STORE || 'imgp-store',
        referencePrevious: true,
        base: '/assets/',
        binDir: path.join(root, 'bin'),
      });
    console.log(rec.url);
  } catch (e) {
    if (e instanceof ImgpError) {
      console.error(`${e.message} (retryable: ${e.retryable})`);
      process.exit(1);
    }
    throw e;
  }
}

main();
