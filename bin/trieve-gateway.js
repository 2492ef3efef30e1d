#!/usr/bin/env node
// The compiled CLI (npm run build, run by npm install and npm pack): plain node, no loader.
import '../dist/src/cli.js';
