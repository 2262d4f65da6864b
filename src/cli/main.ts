// The `tsgrad` executable: bin/tsgrad.js imports the built copy of this file (dist/cli/main.js);
// tests and `npm start` run the source with tsx.
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
