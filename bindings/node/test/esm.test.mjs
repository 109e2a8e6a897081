// The package loads as an ES module and as CommonJS, one implementation.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import test from 'node:test';

import imgp, { Pipeline, ImgpError } from 'imgp';

test('import { Pipeline } from "imgp" and require("imgp") give the same classes', () => {
  const cjs = createRequire(import.meta.url)('imgp');
  assert.equal(Pipeline, cjs.Pipeline);
  assert.equal(ImgpError, cjs.ImgpError);
  assert.equal(imgp.Pipeline, Pipeline);
  assert.equal(typeof Pipeline.prototype.render, 'function');
});
