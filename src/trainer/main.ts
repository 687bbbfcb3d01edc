/** Trainer child process entry point (forked by the extension). */
console.error('VAE Lens trainer: not built yet');
process.exit(1);
