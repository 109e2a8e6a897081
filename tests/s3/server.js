#!/usr/bin/env node
// tests/s3/server.js — the S3-compatible server of the tests and benchmarks:
// s3rver (installed here by scripts/install-deps) on loopback, on a free port.
//
//   node tests/s3/server.js --dir DIR --port-file FILE [--log FILE]
//       [--bucket NAME]... [--faults FILE] [--max-seconds N]
//
// It writes the port it listens on to --port-file once the buckets exist,
// logs one line per request ("METHOD path?query status", written before
// the answer is sent) to --log, and exits after --max-seconds (default
// 300) so that a test that dies cannot leave it running.  Credentials: access key S3RVER, secret S3RVER; it
// checks every signature (header and query-string SigV4).
//
// --faults FILE injects failures.  Before each request the first line of
// FILE, if any, is taken off and applied to that request:
//   status N     answer with HTTP status N and an S3 error body
//   drop         read part of the request, then reset the connection
//   stop         exit at once, as a server that goes away mid-run
//   ok           (or any other word) no fault for this request
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const S3rver = require(path.join(__dirname, 'node_modules', '@20minutes', 's3rver'));

function parseArgs(argv) {
	const o = { buckets: [], maxSeconds: 300 };
	for (let i = 0; i < argv.length; i += 2) {
		const v = argv[i + 1];
		switch (argv[i]) {
		case '--dir': o.dir = v; break;
		case '--port-file': o.portFile = v; break;
		case '--log': o.log = v; break;
		case '--bucket': o.buckets.push(v); break;
		case '--faults': o.faults = v; break;
		case '--max-seconds': o.maxSeconds = Number(v); break;
		default:
			process.stderr.write(`server.js: unknown option ${argv[i]}\n`);
			process.exit(2);
		}
	}
	if (!o.dir || !o.portFile) {
		process.stderr.write('usage: server.js --dir DIR --port-file FILE ' +
		    '[--log FILE] [--bucket NAME]... [--faults FILE] [--max-seconds N]\n');
		process.exit(2);
	}
	return o;
}

// The next fault, taken off the fault file (rewritten without it).
function nextFault(file) {
	if (!file)
		return null;
	let text;
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch (e) {
		return null;
	}
	const lines = text.split('\n').filter((l) => l.trim() !== '');
	if (lines.length === 0)
		return null;
	fs.writeFileSync(file, lines.slice(1).map((l) => l + '\n').join(''));
	return lines[0].trim().split(/\s+/);
}

function main() {
	const o = parseArgs(process.argv.slice(2));
	const s3 = new S3rver({ directory: o.dir, silent: true,
	    configureBuckets: o.buckets.map((name) => ({ name })) });
	const handle = s3.callback();
	const log = o.log ? fs.openSync(o.log, 'a') : null;

	const server = http.createServer((req, res) => {
		// Logged as the status line goes out (writeHead, which node
		// calls for implicit headers too), not on 'finish': a client
		// that has its answer finds the request in the log.
		const writeHead = res.writeHead;
		res.writeHead = function (status, ...rest) {
			if (log !== null)
				fs.writeSync(log, `${req.method} ${req.url} ${status}\n`);
			return writeHead.call(this, status, ...rest);
		};
		const fault = nextFault(o.faults);
		if (fault && fault[0] === 'status') {
			req.resume();
			req.on('end', () => {
				res.writeHead(Number(fault[1]), { 'Content-Type': 'application/xml' });
				res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' +
				    'InternalError</Code><Message>injected fault</Message></Error>');
			});
			return;
		}
		if (fault && fault[0] === 'drop') {
			if (log !== null)
				fs.writeSync(log, `${req.method} ${req.url} dropped\n`);
			req.once('data', () => req.socket.destroy());
			req.on('end', () => req.socket.destroy());
			return;
		}
		if (fault && fault[0] === 'stop')
			process.exit(0);
		handle(req, res);
	});
	s3.configureBuckets().then(() => {
		server.listen(0, '127.0.0.1', () => {
			const tmp = o.portFile + '.tmp';
			fs.writeFileSync(tmp, String(server.address().port));
			fs.renameSync(tmp, o.portFile);
		});
	}, (e) => {
		process.stderr.write(`server.js: ${e.message}\n`);
		process.exit(1);
	});
	setTimeout(() => process.exit(0), o.maxSeconds * 1000).unref();
	process.on('SIGTERM', () => process.exit(0));
}

main();
