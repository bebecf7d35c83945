#!/usr/bin/env node
// The installed entry point: runs the compiled CLI (`npm install` builds it through `prepare`).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`skiff: ${e?.stack ?? e}\n`);
    process.exit(1);
  },
);
