#!/usr/bin/env node
/** The `vae-lens` command line. */
console.error('vae-lens: not built yet');
process.exit(1);
