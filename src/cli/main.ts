// The `tsgrad` executable: bin/tsgrad.js imports the built copy of this file (dist/cli/main.js);
// tests and `npm start` run the source with tsx.

// `tsgrad … | head`: a closed pipe ends the program quietly instead of with an EPIPE trace
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// Loaded here, not imported statically, so that an error while the library loads (a bad
// TSGRAD_BACKEND, read when the kernels load) is one line on stderr like every other error.
let program: typeof import('./program.js');
try {
  program = await import('./program.js');
} catch (e) {
  process.stderr.write(`tsgrad: ${e instanceof Error ? e.message : String(e)}\n`);
  if (process.argv.includes('--verbose') && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
}
process.exitCode = await program.runCli(process.argv);
