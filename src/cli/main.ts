// The `tsgrad` executable: bin/tsgrad.js imports the built copy of this file (dist/cli/main.js);
// tests and `npm start` run the source with tsx.
import { runCli } from './program.js';

// `tsgrad … | head`: a closed pipe ends the program quietly instead of with an EPIPE trace
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = await runCli(process.argv);
