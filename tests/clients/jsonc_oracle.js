// Reads one JSON string per line (a document's text) and answers one line per document with
// what Microsoft's jsonc-parser (the parser VS Code reads mcp.json with) makes of it, using the
// options VS Code's mcp.json schema sets: comments and trailing commas allowed.
const path = require("path");
const jsonc = require(path.resolve(process.argv[2], "node_modules", "jsonc-parser"));
const readline = require("readline");
const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const text = JSON.parse(line);
  const errors = [];
  const value = jsonc.parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  process.stdout.write(JSON.stringify({ errors: errors.length, value: value === undefined ? null : value }) + "\n");
});
