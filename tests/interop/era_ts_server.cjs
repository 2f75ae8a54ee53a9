// Issue 13 interop: a server on the official TypeScript SDK v2 (@modelcontextprotocol/server with
// @modelcontextprotocol/node), written as their READMEs show: one McpServer factory behind
// createMcpHandler (2026-07-28, and 2025-era traffic served statelessly: the default legacy mode),
// mounted on node:http with toNodeHandler and the localhost Host/Origin guards.
// Usage: node era_ts_server.cjs PORT NODE_MODULES_DIR (the packages live in the ignored
// .cache/protocol-interop, installed pinned by scripts/bootstrap.d/30-protocol-interop.sh).
'use strict';
const { createServer } = require('node:http');
const { createRequire } = require('node:module');
const path = require('node:path');

const [port, modules] = process.argv.slice(2);
const load = createRequire(path.join(modules, 'noop.js'));
const { McpServer, createMcpHandler } = load('@modelcontextprotocol/server');
const { localhostHostValidation, localhostOriginValidation, toNodeHandler } = load('@modelcontextprotocol/node');
const { z } = load('zod');

function makeServer() {
    const server = new McpServer({ name: 'era-ts-sdk', version: '1.0.0' });
    server.registerTool(
        'add',
        { description: 'Add two numbers', inputSchema: z.object({ a: z.number(), b: z.number() }) },
        async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] })
    );
    return server;
}

const handle = toNodeHandler(createMcpHandler(makeServer));
const validateHost = localhostHostValidation();
const validateOrigin = localhostOriginValidation();

createServer((req, res) => {
    if (!validateHost(req, res) || !validateOrigin(req, res)) return;
    void handle(req, res);
}).listen(Number(port), '127.0.0.1');
