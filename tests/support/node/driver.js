// Runs one scenario against Tessera with ali-oss, configured as its README and the OSS samples
// configure it. Reads {options, addressing, port, script, values} as JSON on stdin; the script is
// the body of an async function of (client, OSS, values, helpers); prints {"ok": result} or
// {"error": {...}} as JSON on stdout. Used by tests/support/alioss.py.
//
// addressing "endpoint": options.endpoint is http://127.0.0.1:PORT, as the users set it.
// addressing "dns": options.endpoint is the real service endpoint (http://oss-cn-hangzhou.aliyuncs.com:PORT)
// and every *.aliyuncs.com name resolves to the loopback address, as a hosts file would make it.
'use strict';

const dns = require('dns');
const fs = require('fs');

function readStdin() {
  return fs.readFileSync(0, 'utf8');
}

function pointServiceDomainsAtLoopback() {
  const lookup = dns.lookup;
  dns.lookup = function (hostname, options, callback) {
    const name = /\.aliyuncs\.com\.?$/i.test(hostname) ? '127.0.0.1' : hostname;
    return lookup.call(this, name, options, callback);
  };
}

function describeError(error) {
  return {
    name: error.name || '',
    code: error.code || '',
    status: error.status === undefined ? null : error.status,
    message: String(error.message || error),
    requestId: error.requestId || '',
  };
}

function jsonable(value) {
  return JSON.parse(JSON.stringify(value === undefined ? null : value, (key, item) => {
    if (item && item.type === 'Buffer' && Array.isArray(item.data)) {
      return {base64: Buffer.from(item.data).toString('base64')};
    }
    return item;
  }));
}

async function main() {
  const request = JSON.parse(readStdin());
  if (request.addressing === 'dns') {
    pointServiceDomainsAtLoopback();
  }
  const OSS = require('ali-oss');
  const client = new OSS(request.options);
  const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
  const scenario = new AsyncFunction('client', 'OSS', 'values', 'helpers', request.script);
  const helpers = {
    buffer: (base64) => Buffer.from(base64, 'base64'),
    base64: (buffer) => Buffer.from(buffer).toString('base64'),
  };
  try {
    const result = await scenario(client, OSS, request.values || {}, helpers);
    process.stdout.write(JSON.stringify({ok: jsonable(result)}));
  } catch (error) {
    process.stdout.write(JSON.stringify({error: describeError(error)}));
  }
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack || error) + '\n');
  process.exit(2);
});
