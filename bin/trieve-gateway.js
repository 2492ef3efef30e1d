#!/usr/bin/env node
// The compiled CLI (npm run build, run by npm install and npm pack): plain node, no loader. Node's
// on-disk compile cache lets every start after the first skip compiling the modules again.
import module from 'node:module';

module.enableCompileCache?.();
await import('../dist/src/cli.js');
